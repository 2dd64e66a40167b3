using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Streams;
using Confluent.Kafka;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Composition;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Configuration;
using FraudActors.Service.Rules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FraudActors.Service.Hosting;

/// <summary>
/// The node's life inside the ASP.NET host, after Akka.Hosting has started the actor system:
/// it joins the job's cluster, starts the shard regions, the outboxes and the ingest, and on the
/// host's stop drains them (a final checkpoint, or none on a cancel) before Akka.Hosting's
/// coordinated shutdown leaves the cluster.
/// </summary>
public sealed class NodeLifecycle(
    IServiceProvider services,
    FraudSettings settings,
    NodeStores stores,
    NodeOutputs outputs,
    FraudJob job,
    PipelineMetrics metrics,
    CheckpointHistory history,
    RecentAlerts recentAlerts) : IHostedService, IAsyncDisposable
{
    private readonly TaskCompletionSource _removed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _fenced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Running? _running;
    private int _stopped;

    /// <summary>This node's membership in the store (PostgreSQL without seed nodes), given up when it ends.</summary>
    private StoreDiscovery? _discovery;

    /// <summary>How the coming stop ends the ingest; set before the host stops.</summary>
    public StopMode Mode { get; set; } = StopMode.Stop;

    /// <summary>
    /// Completes when this node is no longer a cluster member: after it left on a stop, when
    /// the split-brain resolver downed it (unreachable from the majority), or when a member
    /// quarantined it (<see cref="QuarantineWatch"/>). A downed node must stop reading at once:
    /// its partitions already belong to the others.
    /// </summary>
    public Task RemovedFromCluster => _removed.Task;

    /// <summary>
    /// Completes, with the operator's message, when the SQLite store turns out not writable while
    /// running (disk full, permission denied): no retry helps, the node must stop.
    /// </summary>
    public Task<string> StoreFault { get; private set; } = new TaskCompletionSource<string>().Task;

    /// <summary>
    /// Completes, naming what, when another node of the job took over this node's outbox or one of
    /// its partitions (a second cluster of the job, or this node was frozen or split off while its
    /// cluster moved on): it publishes and checkpoints nothing more, and the node must stop.
    /// </summary>
    public Task<string> Fenced => _fenced.Task;

    /// <summary>The user shard region and the partition journals, once started.</summary>
    public (IActorRef Users, IPartitionJournals Journals) Shards => (Started.Users, Started.Journals);

    /// <summary>The actor system the node runs on, once started.</summary>
    public ActorSystem System => Started.System;

    /// <summary>The node's rules: desired by the rules topic, and in force per partition; null before the start.</summary>
    public RulesBoard? Rules => _running?.Rules;

    /// <summary>Writes to the rules topic (<c>PUT</c> and <c>DELETE /rules/{name}</c>); null before the start.</summary>
    public RulesPublisher? RulesPublisher => _running?.RulesPublisher;

    /// <summary>The node has started (its actor system, shards and ingest are there).</summary>
    public bool IsStarted => _running is not null;

    private Running Started => _running ?? throw new InvalidOperationException("the node has not started");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var system = services.GetRequiredService<ActorSystem>();
        var log = Logging.GetLogger(system, "fraud");
        if (settings.Store == JournalStore.Sqlite)
        {
            StoreFault = StoreFaultWatch.Start(system, settings.Connection);
        }

        _discovery = await ClusterMembership.JoinAsync(system, settings, log, cancellationToken).ConfigureAwait(false);
        Cluster.Get(system).RegisterOnMemberRemoved(() => _removed.TrySetResult());
        _ = QuarantineWatch.Start(system, log).ContinueWith(_ => _removed.TrySetResult(), TaskScheduler.Default);

        var (journals, users) = await JobShards.StartAsync(
            system,
            settings.Topics.Transactions,
            settings.UserSettings,
            settings.PassivateAfter,
            settings.Node.ShardAllocation == ShardPlacement.Hash,
            log).ConfigureAwait(false);
        var producer = new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfigs.NodeProducer(settings))
            .SetErrorHandler((_, e) => log.Warning("Kafka producer: {0} ({1})", e.Reason, e.Code))
            .Build();

        // Each outbox and each partition's checkpoints are fenced by an epoch in the store.
        var owner = $"{Cluster.Get(system).SelfAddress} (process {Environment.ProcessId})";
        var outboxes = NodeOutboxes.Start(
            system,
            settings,
            stores,
            producer,
            owner,
            alert =>
            {
                recentAlerts.Add(alert);
                outputs.OnAlert(alert);
            },
            outputs.OnWindow,
            _fenced,
            log);
        var partitionFence = stores.PartitionFenceOf(owner);
        partitionFence?.Fenced.ContinueWith(t => _fenced.TrySetResult(t.Result), TaskScheduler.Default);

        // The rules: the whole rules topic is read before the first transaction (docs/design.md,
        // "Dynamic rules"); the ingest's first run waits for it, the node's start does not.
        var endOffsets = new KafkaEndOffsets(settings.Bootstrap, KafkaClientConfigs.ConsumerProperties(settings));
        var rules = new RulesBoard(settings.Rules.Set ?? throw new InvalidOperationException("configured rules without their specs"))
        {
            EndOffset = partition => endOffsets.Query(settings.Topics.Transactions, [partition], TimeSpan.FromSeconds(30))[partition],
        };
        var rulesReader = RulesTopicReader.Start(
            KafkaClientConfigs.NodeConsumer(settings),
            settings.Topics.Rules,
            rules,
            new DeadLetterPublisher(producer, settings.Topics.RulesDlq),
            log);
        var pipeline = new JobPipeline(
            users,
            journals,
            outboxes.Alerts,
            new DeadLetterPublisher(producer, settings.Topics.DeadLetters),
            settings.Checkpoints with { Fence = partitionFence },
            history,
            metrics,
            log)
        {
            Parser = new TransactionParser(
                settings.Ingest.MaxRecordBytes,
                settings.Time.Characteristic == TimeCharacteristic.EventTime ? settings.Ingest.Timestamps : TimestampBounds.None,
                settings.Ingest.MaxAbsAmount),
            Settings = new PipelineSettings(settings.Ingest.Parallelism, settings.Ingest.AskTimeout),
            Time = new PipelineTime(settings.Time, outboxes.Windows, settings.PublishLate ? new DeadLetterPublisher(producer, settings.Topics.Late) : null),
            Rules = rules,
        };
        var database = stores.Database;
        var ingest = pipeline.Ingest(
            KafkaSourceSettings.Create(KafkaClientConfigs.NodeConsumer(settings), settings.Topics.Transactions),
            system.Materializer(),
            database is null ? null : () => database.ExecuteAsync("SELECT 1", CancellationToken.None));
        ingest.Start();
        _running = new Running(system, users, journals, ingest, producer, outboxes)
        {
            Rules = rules,
            RulesReader = rulesReader,
            RulesPublisher = new RulesPublisher(settings),
            EndOffsets = endOffsets,
        };

        log.Info("FraudActors node up at {0}, reading {1} from {2}", Cluster.Get(system).SelfAddress, settings.Topics.Transactions, settings.Bootstrap);
        log.Info(
            "Time: {0}, watermark bound {1}, idle timeout {2}; windows: {3}; rules: {4}",
            settings.Time.Characteristic,
            settings.Time.Watermarks.OutOfOrderness,
            settings.Time.Watermarks.IdleTimeout?.ToString() ?? "off",
            DescribeWindows(settings.Windows),
            string.Join(", ", settings.Rules.Rules.Select(r => r.Name)));
    }

    /// <summary>Drains the records in flight (a final checkpoint unless cancelled) and the outbox publisher.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_running is not { } running || Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        job.MarkStopping();
        if (Mode == StopMode.Cancel)
        {
            await running.Ingest.CancelAsync().ConfigureAwait(false);
        }
        else
        {
            await running.Ingest.StopAsync().ConfigureAwait(false);
        }

        running.RulesReader?.Dispose();
        running.EndOffsets?.Dispose();
        running.RulesPublisher?.Dispose();
        await running.Outboxes.DrainAsync(Mode).ConfigureAwait(false);
        running.Producer.Flush(TimeSpan.FromSeconds(10));
        running.Producer.Dispose();
    }

    /// <summary>Gives up the store membership (once: the container holds this instance twice, as itself and as a hosted service).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _discovery, null) is { } discovery)
        {
            await discovery.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string DescribeWindows(WindowSettings w)
    {
        var kinds = new List<string>();
        if (w.Tumbling is { } t)
        {
            kinds.Add($"tumbling {t}");
        }

        if (w.SlidingSize is { } size)
        {
            kinds.Add($"sliding {size} every {w.SlidingSlide ?? size}");
        }

        if (w.SessionGap is { } gap)
        {
            kinds.Add($"session gap {gap}");
        }

        if (w.CountSize is { } count)
        {
            kinds.Add(string.Create(CultureInfo.InvariantCulture, $"count {count}"));
        }

        return kinds.Count == 0 ? "none" : string.Join(", ", kinds);
    }

    private sealed record Running(
        ActorSystem System,
        IActorRef Users,
        IPartitionJournals Journals,
        TransactionIngest Ingest,
        IProducer<byte[]?, byte[]> Producer,
        NodeOutboxes Outboxes)
    {
        public RulesBoard? Rules { get; init; }

        public RulesTopicReader? RulesReader { get; init; }

        public KafkaEndOffsets? EndOffsets { get; init; }

        public RulesPublisher? RulesPublisher { get; init; }
    }
}
