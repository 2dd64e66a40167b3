using System.Text.Json;
using Akka.Hosting;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using FraudActors.Service.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FraudActors.Service.Composition;

/// <summary>
/// The composition root of a node: one ASP.NET host that owns the actor system (Akka.Hosting,
/// configured from the HOCON files and the settings), the node's lifecycle as a hosted service,
/// the HTTP API and dashboard, and readiness as an ASP.NET health check. <c>fraud run</c>,
/// <c>fraud demo</c> and the bench all start nodes through <see cref="FraudNode"/>, which builds this.
/// </summary>
public static class FraudHost
{
    /// <summary>The actor system's name: part of every member's address (seed nodes name it).</summary>
    public const string SystemName = "fraud";

    /// <summary>
    /// How long a stop may take: a final checkpoint of every partition, then the outbox drain.
    /// The host's own default (30 s) would cut a large final checkpoint short.
    /// </summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The host of one node on <paramref name="stores"/> (already open), not started yet.</summary>
    public static WebApplication Build(FraudSettings settings, NodeStores stores, NodeOutputs outputs)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(HttpAddress.Parse(settings.Http)));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

        builder.Services.AddAkka(SystemName, akka =>
        {
            akka.AddHocon(ClusterMembership.AkkaConfig(settings), HoconAddMode.Replace);
            if (settings.Node.Tls is { } tls)
            {
                akka.AddSetup(RemotingTls.Setup(tls));
            }
        });

        // The node: its settings and tables, its state for the API, and its lifecycle, which
        // starts after the actor system (hosted services start in order, the HTTP server last).
        builder.Services
            .AddSingleton(settings)
            .AddSingleton(stores)
            .AddSingleton(outputs)
            .AddSingleton(new FraudJob(settings.GroupId))
            .AddSingleton<PipelineMetrics>()
            .AddSingleton(new CheckpointHistory(settings.Checkpoints.Retained, stores.CheckpointLog))
            .AddSingleton<RecentAlerts>()
            .AddSingleton<NodeLifecycle>()
            .AddHostedService(services => services.GetRequiredService<NodeLifecycle>())
            .AddSingleton<NodeQueries>();

        // What the HTTP API adds: rates, Prometheus metrics, readiness.
        builder.Services
            .AddSingleton(services => new RateMeter(services.GetRequiredService<PipelineMetrics>()))
            .AddSingleton<FraudMetrics>();
        builder.Services.AddHealthChecks().AddCheck<ReadinessCheck>(ReadinessCheck.Name, tags: [ReadinessCheck.Tag]);

        var app = builder.Build();

        // Made now, not at the first request: the metrics count every checkpoint from the start,
        // and the rates have samples before /overview first asks for them.
        _ = app.Services.GetRequiredService<FraudMetrics>();
        _ = app.Services.GetRequiredService<RateMeter>();
        HttpApi.Map(app);
        return app;
    }
}
