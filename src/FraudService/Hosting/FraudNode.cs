using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using Akka.Streams;
using Confluent.Kafka;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Ingest;
using FraudActors.Actors.Kafka;
using FraudActors.Actors.Storage;
using FraudActors.Actors.Users;
using FraudActors.Actors.Windows;
using FraudActors.Actors.Windows.Output;
using FraudActors.FraudService.Configuration;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;

namespace FraudActors.FraudService.Hosting;

/// <summary>
/// One service node: the actor system joined to its cluster, the user shard region, the alert
/// and dead-letter producers and the ingest stream. The composition root of <c>fraud run</c>
/// and <c>fraud demo</c>.
/// </summary>
public sealed class FraudNode : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly TransactionIngest _ingest;
    private readonly AlertOutbox _outbox;
    private readonly WindowOutbox? _windows;
    private int _stopped;

    private FraudNode(ActorSystem system, IProducer<byte[]?, byte[]> producer, AlertOutbox outbox, WindowOutbox? windows, TransactionIngest ingest, PipelineMetrics metrics, CheckpointHistory checkpoints)
    {
        _outbox = outbox;
        _windows = windows;
        Checkpoints = checkpoints;
        _system = system;
        _producer = producer;
        _ingest = ingest;
        Metrics = metrics;
    }

    public PipelineMetrics Metrics { get; }

    public CheckpointHistory Checkpoints { get; }

    public static async Task<FraudNode> StartAsync(FraudSettings settings, Action<Alert> onAlert, CancellationToken cancellationToken, Action<WindowResult>? onWindow = null)
    {
        LibRdKafka.EnsureLoaded();

        // The database first: a bad connection string or an unreachable database is reported
        // before anything else starts.
        var alertStore = AlertStore(settings);
        var windowStore = settings.Windows.Any ? WindowResultStore(settings) : null;
        var checkpointLog = CheckpointLog(settings);
        try
        {
            await alertStore.InitializeAsync(cancellationToken).ConfigureAwait(false);
            if (windowStore is not null)
            {
                await windowStore.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }

            if (checkpointLog is not null)
            {
                await checkpointLog.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException($"the {settings.Store} database is not reachable: {e.Message}", e);
        }

        var system = ActorSystem.Create("fraud", AkkaConfig(settings));
        try
        {
            var log = Logging.GetLogger(system, "fraud");
            await JoinAsync(system, cancellationToken).ConfigureAwait(false);

            var journals = new PartitionJournals(system, settings.Topics.Transactions, new PartitionJournalSettings());
            var sharding = ClusterSharding.Get(system);
            var shardingSettings = ClusterShardingSettings.Create(system);

            // StopUser is what sharding sends a user it passivates or hands off: the user hands
            // its state to its partition journal before it stops.
            var users = await sharding.StartAsync(
                "user",
                userId => UserActor.PropsFor(userId, settings.UserSettings, TimeProvider.System, journals),
                shardingSettings,
                new UserMessageRouter(),
                sharding.DefaultShardAllocationStrategy(shardingSettings),
                StopUser.Instance).ConfigureAwait(false);

            var producer = new ProducerBuilder<byte[]?, byte[]>(ProducerConfig(settings))
                .SetErrorHandler((_, e) => log.Warning("Kafka producer: {0} ({1})", e.Reason, e.Code))
                .Build();
            var outbox = new AlertOutbox(alertStore, producer, settings.Bootstrap, settings.Topics.Alerts, log, onAlert);
            await outbox.StartAsync(cancellationToken).ConfigureAwait(false);
            WindowOutbox? windows = null;
            if (windowStore is not null)
            {
                windows = new WindowOutbox(windowStore, producer, settings.Bootstrap, settings.Topics.WindowCounts, settings.Topics.Sessions, log, onWindow);
                await windows.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var metrics = new PipelineMetrics();
            var history = new CheckpointHistory(settings.Checkpoints.Retained, checkpointLog);
            var pipeline = new TransactionPipeline(
                users,
                journals,
                new TransactionParser(settings.Ingest.MaxRecordBytes),
                outbox,
                new DeadLetterPublisher(producer, settings.Topics.DeadLetters),
                new PipelineSettings(settings.Ingest.Parallelism, settings.Ingest.AskTimeout),
                settings.Checkpoints,
                history,
                metrics,
                log,
                new PipelineTime(settings.Time, windows, settings.PublishLate ? new DeadLetterPublisher(producer, settings.Topics.Late) : null));
            var source = KafkaSourceSettings.Create(ConsumerConfig(settings), settings.Topics.Transactions);
            var ingest = new TransactionIngest(pipeline, journals, source, system.Materializer(), log);
            ingest.Start();
            log.Info("FraudActors node up at {0}, reading {1} from {2}", Cluster.Get(system).SelfAddress, settings.Topics.Transactions, settings.Bootstrap);
            log.Info(
                "Time: {0}, watermark bound {1}, idle timeout {2}; windows: {3}; rules: {4}",
                settings.Time.Characteristic,
                settings.Time.Watermarks.OutOfOrderness,
                settings.Time.Watermarks.IdleTimeout?.ToString() ?? "off",
                DescribeWindows(settings.Windows),
                string.Join(", ", settings.Rules.Rules.Select(r => r.Name)));
            return new FraudNode(system, producer, outbox, windows, ingest, metrics, history);
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Drains the records in flight, commits their offsets, flushes alerts and leaves the cluster.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _ingest.StopAsync().ConfigureAwait(false);
        await _outbox.DisposeAsync().ConfigureAwait(false);
        if (_windows is not null)
        {
            await _windows.DisposeAsync().ConfigureAwait(false);
        }

        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static Akka.Configuration.Config AkkaConfig(FraudSettings settings)
    {
        var derived = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            akka.remote.dot-netty.tcp.hostname = "{settings.Node.Hostname}"
            akka.remote.dot-netty.tcp.port = {settings.Node.Port}
            akka.cluster.sharding.passivate-idle-entity-after = {(long)settings.PassivateAfter.TotalMilliseconds}ms
            """));
        return derived
            .WithFallback(JournalStore.Config(settings.Store, settings.Connection))
            .WithFallback(settings.Hocon)
            .WithFallback(ClusterSharding.DefaultConfig());
    }

    /// <summary>A single node joins itself; joining others arrives with the cluster issue.</summary>
    private static async Task JoinAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        await cluster.JoinAsync(cluster.SelfAddress, cancellationToken).ConfigureAwait(false);
        await up.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The alerts table lives in the same database as the partition journals.</summary>
    private static IAlertStore AlertStore(FraudSettings settings)
    {
        try
        {
            return settings.Store switch
            {
                JournalStore.Postgres => SqlAlertStore.PostgreSql(settings.Connection),
                JournalStore.Sqlite => SqlAlertStore.Sqlite(settings.Connection),
                _ => new MemoryAlertStore(),
            };
        }
        catch (ArgumentException e)
        {
            throw new Configuration.ConfigurationException($"--connection: not a valid {settings.Store} connection string: {e.Message}");
        }
    }

    /// <summary>The window results table, beside the alerts table.</summary>
    private static IWindowResultStore WindowResultStore(FraudSettings settings) => settings.Store switch
    {
        JournalStore.Postgres => SqlWindowResultStore.PostgreSql(settings.Connection),
        JournalStore.Sqlite => SqlWindowResultStore.Sqlite(settings.Connection),
        _ => new MemoryWindowResultStore(),
    };

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

    /// <summary>The checkpoint history table, where there is a database to hold it.</summary>
    public static ICheckpointLog? CheckpointLog(FraudSettings settings) => settings.Store switch
    {
        JournalStore.Postgres => new SqlCheckpointLog(SqlDatabase.PostgreSql(settings.Connection)),
        JournalStore.Sqlite => new SqlCheckpointLog(SqlDatabase.Sqlite(settings.Connection)),
        _ => null,
    };

    private static ConsumerConfig ConsumerConfig(FraudSettings settings) => new(new Dictionary<string, string>(settings.KafkaConsumer))
    {
        BootstrapServers = settings.Bootstrap,
        GroupId = settings.GroupId,
        ClientId = "fraud-node",
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = true,
        // Offsets are stored only when a checkpoint commits; librdkafka sends them soon after.
        AutoCommitIntervalMs = 1000,
        EnablePartitionEof = false,
    };

    private static ProducerConfig ProducerConfig(FraudSettings settings) => new(new Dictionary<string, string>(settings.KafkaProducer))
    {
        BootstrapServers = settings.Bootstrap,
        ClientId = "fraud-node",
        EnableIdempotence = true,
        Acks = Acks.All,
        LingerMs = 5,
    };
}
