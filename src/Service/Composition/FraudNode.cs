using System.Net.Sockets;
using Akka.Event;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using FraudActors.Service.Http;
using FraudActors.Testkit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FraudActors.Service.Composition;

/// <summary>
/// One running service node, as the commands hold it: started on its settings (the store first,
/// then <see cref="FraudHost"/>), stopped with a final checkpoint or cancelled without one, and
/// what the commands wait on (a stop asked over HTTP, removal from the cluster, a store fault, a fence).
/// </summary>
public sealed class FraudNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly NodeStores _stores;
    private readonly NodeLifecycle _lifecycle;
    private int _ended;

    private FraudNode(WebApplication app, NodeStores stores, Uri httpAddress)
    {
        _app = app;
        _stores = stores;
        _lifecycle = app.Services.GetRequiredService<NodeLifecycle>();
        HttpAddress = httpAddress;
        Settings = app.Services.GetRequiredService<FraudSettings>();
        Job = app.Services.GetRequiredService<FraudJob>();
        Metrics = app.Services.GetRequiredService<PipelineMetrics>();
        Checkpoints = app.Services.GetRequiredService<CheckpointHistory>();
    }

    public FraudSettings Settings { get; }

    public PipelineMetrics Metrics { get; }

    public CheckpointHistory Checkpoints { get; }

    /// <summary>This node's job; <see cref="FraudJob.StopRequested"/> completes when an operator stops or cancels it.</summary>
    public FraudJob Job { get; }

    /// <summary>The HTTP API's address as bound (the port chosen when 0 was asked for).</summary>
    public Uri HttpAddress { get; }

    /// <inheritdoc cref="NodeLifecycle.RemovedFromCluster"/>
    public Task RemovedFromCluster => _lifecycle.RemovedFromCluster;

    /// <inheritdoc cref="NodeLifecycle.StoreFault"/>
    public Task<string> StoreFault => _lifecycle.StoreFault;

    /// <inheritdoc cref="NodeLifecycle.Fenced"/>
    public Task<string> Fenced => _lifecycle.Fenced;

    /// <summary>
    /// Opens the store, then starts the host: the actor system joins its cluster, the ingest
    /// reads, and the HTTP API listens. An address that cannot be bound stops the start with a
    /// message naming --http: a node whose health probes cannot answer must not run on silently.
    /// </summary>
    public static async Task<FraudNode> StartAsync(FraudSettings settings, NodeOutputs outputs, CancellationToken cancellationToken)
    {
        LibRdKafka.EnsureLoaded();
        KafkaClientConfigs.Validate(settings);
        var stores = await NodeStores.OpenAsync(settings, cancellationToken).ConfigureAwait(false);
        WebApplication? app = null;
        try
        {
            app = FraudHost.Build(settings, stores, outputs);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Causes(e).Any(c => c is Akka.Remote.RemoteTransportException))
            {
                var socket = Causes(e).OfType<SocketException>().FirstOrDefault();
                throw new ConfigurationException(
                    $"--node-port: cannot listen on {settings.Node.Hostname}:{settings.Node.Port}: {socket?.Message ?? e.Message}; choose another port (0 takes any free one) or --node-hostname");
            }
            catch (IOException e)
            {
                throw new ConfigurationException($"--http: cannot listen on {settings.Http}: {e.Message}; choose another address (--http 127.0.0.1:0 takes any free port)");
            }

            var node = new FraudNode(app, stores, BoundAddress(app, settings));
            app.Services.GetRequiredService<Akka.Actor.ActorSystem>().Log.Info("HTTP API and dashboard on {0}", node.HttpAddress);
            return node;
        }
        catch
        {
            if (app is not null)
            {
                app.Services.GetRequiredService<NodeLifecycle>().Mode = StopMode.Cancel;
                await StopHostAsync(app).ConfigureAwait(false);
            }

            stores.Dispose();
            throw;
        }
    }

    /// <summary>Drains the records in flight, commits their offsets, flushes alerts and leaves the cluster.</summary>
    public Task StopAsync() => EndAsync(StopMode.Stop);

    /// <summary>
    /// Stops reading at once and stops without a final checkpoint (Flink's cancel): a restart
    /// resumes from the last checkpoint. Alerts already in the table are still published.
    /// </summary>
    public Task CancelAsync() => EndAsync(StopMode.Cancel);

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task EndAsync(StopMode mode)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 1)
        {
            return;
        }

        _lifecycle.Mode = mode;
        Job.MarkStopping();
        await StopHostAsync(_app).ConfigureAwait(false);
        Job.MarkEnded(mode);
        _stores.Dispose();
    }

    /// <summary>Stops the host's services in reverse order (HTTP, the node's drain, then the actor system's coordinated shutdown).</summary>
    private static async Task StopHostAsync(WebApplication app)
    {
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>An exception and its causes, through aggregates (Akka.Hosting wraps the actor system's start failures).</summary>
    private static IEnumerable<Exception> Causes(Exception e)
    {
        yield return e;
        var inner = e is AggregateException aggregate ? aggregate.InnerExceptions : e.InnerException is { } one ? [one] : [];
        foreach (var cause in inner.SelectMany(Causes))
        {
            yield return cause;
        }
    }

    private static Uri BoundAddress(WebApplication app, FraudSettings settings)
    {
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? $"http://{Http.HttpAddress.Parse(settings.Http)}";
        return new Uri(bound.Replace("[::]", "0.0.0.0", StringComparison.Ordinal) + "/");
    }
}
