using System.Globalization;
using System.Text.Json;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Messages.Alerts;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;

namespace FraudActors.Service.Http;

/// <summary>
/// The node's HTTP API and dashboard (docs/design.md, section 6), ASP.NET Core minimal APIs: the job,
/// its checkpoints, partition offsets, users' live state, recent alerts, the rules, stop and cancel,
/// Prometheus metrics and health. Errors are problem details; admin calls need the admin token,
/// and with a read token set every route but the probes needs it or the admin token (<see cref="ReadAuthorization"/>).
/// </summary>
public static class HttpApi
{
    private const int DefaultAlertLimit = 50;
    private const int MaxAlertLimit = 1000;

    /// <summary>Adds the API's middleware and routes to <paramref name="app"/>; the node's services come from its container.</summary>
    public static void Map(WebApplication app)
    {
        var settings = app.Services.GetRequiredService<FraudSettings>();
        app.UseStatusCodePages(context => Problems.ForEmptyResponse(context.HttpContext));
        new ReadAuthorization(settings.ReadToken, settings.AdminToken, DashboardFiles()).Use(app);
        MapDashboard(app);
        var admin = new AdminAuthorization(settings.AdminToken);
        MapJob(app, admin);
        MapNode(app);
        RulesApi.Map(app, admin);
        MapProbes(app);
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

    private static void MapDashboard(WebApplication app)
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
            Console.Error.WriteLine($"fraud: dashboard files not found at {root}: / shows a note instead");
            app.MapGet("/", () => Results.Text(
                $"FraudActors: the dashboard's files are missing (expected in {root}).\nThe API works: /overview, /jobs, /partitions, /alerts, /rules, /metrics, /healthz, /readyz.\n",
                "text/plain; charset=utf-8"));
        }
    }

    private static void MapJob(WebApplication app, AdminAuthorization admin)
    {
        app.MapGet("/jobs", ([FromServices] FraudJob job) => Results.Json(new JobList([JobView.Of(job)])));

        app.MapGet("/jobs/{id}", async (string id, [FromServices] FraudJob job, [FromServices] CheckpointHistory checkpoints, [FromServices] PipelineMetrics metrics, [FromServices] NodeQueries queries, CancellationToken ct) =>
        {
            if (id != job.Id)
            {
                return UnknownJob(id);
            }

            var view = JobView.Of(job);
            return Results.Json(new JobDetail(view.Id, view.Name, view.State, view.Started, Counts(checkpoints, metrics), await queries.PartitionsAsync(ct).ConfigureAwait(false)));
        });

        app.MapGet("/jobs/{id}/checkpoints", (string id, [FromServices] FraudJob job, [FromServices] CheckpointHistory checkpoints, [FromServices] PipelineMetrics metrics) =>
        {
            if (id != job.Id)
            {
                return UnknownJob(id);
            }

            var history = checkpoints.Snapshot().Reverse().Select(CheckpointView.Of).ToList();
            var latest = new LatestCheckpoints(
                history.FirstOrDefault(c => c.Status == "completed"),
                history.FirstOrDefault(c => c.Status == "failed"));
            return Results.Json(new CheckpointsView(Counts(checkpoints, metrics), latest, history));
        });

        app.MapMethods("/jobs/{id}", ["PATCH"], (string id, HttpRequest request, [FromServices] FraudJob job) =>
        {
            if (admin.Refusal(request) is { } refusal)
            {
                return refusal;
            }

            if (id != job.Id)
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

            job.RequestStop(chosen);
            return Results.Json(JobView.Of(job), statusCode: StatusCodes.Status202Accepted);
        });
    }

    private static void MapNode(WebApplication app)
    {
        app.MapGet("/overview", ([FromServices] NodeQueries queries, [FromServices] FraudJob job, [FromServices] PipelineMetrics m, [FromServices] RateMeter rates) =>
        {
            var (inRate, outRate) = rates.Rates();
            return Results.Json(new Overview(
                queries.NodeAddress,
                queries.ClusterMembers(),
                Math.Round((DateTimeOffset.UtcNow - job.Started).TotalSeconds, 1),
                job.State,
                m.RecordsIn,
                Math.Round(inRate, 2),
                Math.Round(outRate, 2),
                m.Alerts,
                m.DeadLettered,
                m.Late,
                m.WindowResults));
        });

        app.MapGet("/partitions", async ([FromServices] NodeQueries queries, CancellationToken ct) => Results.Json(new PartitionList(await queries.PartitionsAsync(ct).ConfigureAwait(false))));

        app.MapGet("/users/{id}", async (string id, [FromServices] NodeQueries queries, CancellationToken ct) =>
            await queries.UserAsync(id, ct).ConfigureAwait(false) is { } user
                ? Results.Json(UserStateView.Render(user.State, user.Partition))
                : Problems.NotFound($"no user '{id}' on this node: it has no state in the assigned partitions"));

        app.MapGet("/alerts", (HttpRequest request, [FromServices] RecentAlerts recent) =>
        {
            var limit = DefaultAlertLimit;
            if (request.Query.TryGetValue("limit", out var limitText)
                && !(int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxAlertLimit))
            {
                return Problems.BadRequest($"limit must be a whole number from 1 to {MaxAlertLimit}; got '{limitText}'");
            }

            var user = request.Query["user"].ToString() is { Length: > 0 } u ? u : null;
            var alerts = recent.Newest(user, limit).Select(a => JsonDocument.Parse(AlertJson.Serialize(a)).RootElement).ToList();
            return Results.Json(new { alerts });
        });

        app.MapGet("/metrics", async (HttpResponse response, [FromServices] FraudMetrics prometheus, CancellationToken ct) =>
        {
            response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await prometheus.ExportAsync(response.Body, ct).ConfigureAwait(false);
        });
    }

    /// <summary>Liveness answers while the process serves; readiness is the node's health check (<see cref="ReadinessCheck"/>).</summary>
    private static void MapProbes(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Json(new Health("alive")));
        app.MapHealthChecks("/readyz", ReadinessCheck.Options);
    }

    private static CheckpointCounts Counts(CheckpointHistory checkpoints, PipelineMetrics metrics) =>
        new(checkpoints.Completed, checkpoints.Failed, metrics.CheckpointsInProgress);

    private static IResult UnknownJob(string id) => Problems.NotFound($"no job '{id}': this node runs one job, listed by GET /jobs");
}
