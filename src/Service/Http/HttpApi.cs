using System.Globalization;
using System.Net;
using System.Text.Json;
using Akka.Event;
using FraudActors.Messages.Alerts;
using FraudActors.Service.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace FraudActors.Service.Http;

/// <summary>
/// The node's HTTP API and dashboard (docs/design.md, section 6), ASP.NET Core minimal APIs: the job,
/// its checkpoints, partition offsets, users' live state, recent alerts, stop and cancel,
/// Prometheus metrics and health. Errors are problem details; admin calls need the admin token,
/// and with a read token set every route but the probes needs it or the admin token (<see cref="ReadAuthorization"/>).
/// </summary>
public sealed class HttpApi : IAsyncDisposable
{
    private const int DefaultAlertLimit = 50;
    private const int MaxAlertLimit = 1000;

    private readonly WebApplication _app;

    private HttpApi(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The address actually bound (the port chosen when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>Starts serving on <paramref name="endpoint"/>; throws <see cref="IOException"/> when it cannot be bound.</summary>
    public static async Task<HttpApi> StartAsync(FraudNode node, IPEndPoint endpoint, ILoggingAdapter log, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        var app = builder.Build();
        app.UseStatusCodePages(context => Problems.ForEmptyResponse(context.HttpContext));
        new ReadAuthorization(node.Settings.ReadToken, node.Settings.AdminToken, DashboardFiles()).Use(app);
        MapDashboard(app, log);
        Map(app, node);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? $"http://{endpoint}";
        var address = new Uri(bound.Replace("[::]", "0.0.0.0", StringComparison.Ordinal) + "/");
        return new HttpApi(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static string DashboardRoot => Path.Combine(AppContext.BaseDirectory, "wwwroot");

    /// <summary>The request paths of the dashboard's own files (no data in them), and the page's root.</summary>
    private static HashSet<string> DashboardFiles()
    {
        var paths = new HashSet<string>(StringComparer.Ordinal) { "/" };
        if (Directory.Exists(DashboardRoot))
        {
            foreach (var file in Directory.EnumerateFiles(DashboardRoot, "*", SearchOption.AllDirectories))
            {
                paths.Add("/" + Path.GetRelativePath(DashboardRoot, file).Replace(Path.DirectorySeparatorChar, '/'));
            }
        }

        return paths;
    }

    private static void MapDashboard(WebApplication app, ILoggingAdapter log)
    {
        var root = DashboardRoot;
        if (Directory.Exists(root))
        {
            var files = new PhysicalFileProvider(root);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        else
        {
            log.Warning("Dashboard files not found at {0}: / shows a note instead", root);
            app.MapGet("/", () => Results.Text(
                $"FraudActors: the dashboard's files are missing (expected in {root}).\nThe API works: /overview, /jobs, /partitions, /alerts, /metrics, /healthz, /readyz.\n",
                "text/plain; charset=utf-8"));
        }
    }

    private static void Map(WebApplication app, FraudNode node)
    {
        var admin = new AdminAuthorization(node.Settings.AdminToken);

        app.MapGet("/overview", () =>
        {
            var m = node.Metrics;
            var (inRate, outRate) = node.Rates.Rates();
            return Results.Json(new Overview(
                node.NodeAddress,
                node.ClusterMembers(),
                Math.Round(node.Uptime.TotalSeconds, 1),
                node.Job.State,
                m.RecordsIn,
                Math.Round(inRate, 2),
                Math.Round(outRate, 2),
                m.Alerts,
                m.DeadLettered,
                m.Late,
                m.WindowResults));
        });

        app.MapGet("/jobs", () => Results.Json(new JobList([JobView.Of(node.Job)])));

        app.MapGet("/jobs/{id}", async (string id, CancellationToken ct) =>
        {
            if (id != node.Job.Id)
            {
                return UnknownJob(id);
            }

            var job = JobView.Of(node.Job);
            return Results.Json(new JobDetail(job.Id, job.Name, job.State, job.Started, Counts(node), await node.PartitionsAsync(ct).ConfigureAwait(false)));
        });

        app.MapGet("/jobs/{id}/checkpoints", (string id) =>
        {
            if (id != node.Job.Id)
            {
                return UnknownJob(id);
            }

            var history = node.Checkpoints.Snapshot().Reverse().Select(CheckpointView.Of).ToList();
            var latest = new LatestCheckpoints(
                history.FirstOrDefault(c => c.Status == "completed"),
                history.FirstOrDefault(c => c.Status == "failed"));
            return Results.Json(new CheckpointsView(Counts(node), latest, history));
        });

        app.MapMethods("/jobs/{id}", ["PATCH"], (string id, HttpRequest request) =>
        {
            if (admin.Refusal(request) is { } refusal)
            {
                return refusal;
            }

            if (id != node.Job.Id)
            {
                return UnknownJob(id);
            }

            StopMode? mode = request.Query["mode"].ToString() switch
            {
                "stop" => StopMode.Stop,
                "cancel" => StopMode.Cancel,
                _ => null,
            };
            if (mode is not { } chosen)
            {
                return Problems.BadRequest($"mode must be stop (final checkpoint, then stop) or cancel (stop without a final checkpoint); got '{request.Query["mode"]}'");
            }

            node.Job.RequestStop(chosen);
            return Results.Json(JobView.Of(node.Job), statusCode: StatusCodes.Status202Accepted);
        });

        app.MapGet("/partitions", async (CancellationToken ct) => Results.Json(new PartitionList(await node.PartitionsAsync(ct).ConfigureAwait(false))));

        app.MapGet("/users/{id}", async (string id, CancellationToken ct) =>
            await node.UserAsync(id, ct).ConfigureAwait(false) is { } user
                ? Results.Json(user)
                : Problems.NotFound($"no user '{id}' on this node: it has no state in the assigned partitions"));

        app.MapGet("/alerts", (HttpRequest request) =>
        {
            var limit = DefaultAlertLimit;
            if (request.Query.TryGetValue("limit", out var limitText)
                && !(int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxAlertLimit))
            {
                return Problems.BadRequest($"limit must be a whole number from 1 to {MaxAlertLimit}; got '{limitText}'");
            }

            var user = request.Query["user"].ToString() is { Length: > 0 } u ? u : null;
            var alerts = node.RecentAlerts.Newest(user, limit).Select(a => JsonDocument.Parse(AlertJson.Serialize(a)).RootElement).ToList();
            return Results.Json(new { alerts });
        });

        app.MapGet("/metrics", async (HttpResponse response, CancellationToken ct) =>
        {
            response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await node.PrometheusMetrics.ExportAsync(response.Body, ct).ConfigureAwait(false);
        });

        app.MapGet("/healthz", () => Results.Json(new Health("alive")));

        app.MapGet("/readyz", async (CancellationToken ct) =>
        {
            var missing = await node.NotReadyAsync(ct).ConfigureAwait(false);
            return missing.Count == 0
                ? Results.Json(new Readiness("ready", missing))
                : Results.Json(new Readiness("not ready", missing), statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }

    private static CheckpointCounts Counts(FraudNode node) =>
        new(node.Checkpoints.Completed, node.Checkpoints.Failed, node.Metrics.CheckpointsInProgress);

    private static IResult UnknownJob(string id) => Problems.NotFound($"no job '{id}': this node runs one job, listed by GET /jobs");
}
