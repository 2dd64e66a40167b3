using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Event;
using Akka.Streams;
using Confluent.Kafka;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Cluster;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;
using FraudActors.Service.Configuration;
using FraudActors.Service.Http;
using FraudActors.Testkit;

namespace FraudActors.Service.Hosting;

/// <summary>
/// One service node: the actor system joined to its cluster, the user shard region, the alert
/// and dead-letter producers, the ingest stream and the HTTP API. The composition root of
/// <c>fraud run</c> and <c>fraud demo</c>.
/// </summary>
public sealed class FraudNode : IAsyncDisposable
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

    private readonly ActorSystem _system;
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly TransactionIngest _ingest;
    private readonly IActorRef _users;
    private readonly IPartitionJournals _journals;
    private readonly KafkaEndOffsets _endOffsets;
    private readonly SqlDatabase? _database;
    private HttpApi? _http;

    /// <summary>The SQLite file this node holds (null on other stores), released when it ends.</summary>
    private SqliteOwnership? _ownership;

    /// <summary>This node's membership in the store (PostgreSQL without seed nodes), given up when it ends.</summary>
    private StoreDiscovery? _discovery;
    private int _stopped;

    private FraudNode(
        FraudSettings settings,
        ActorSystem system,
        IProducer<byte[]?, byte[]> producer,
        TransactionIngest ingest,
        PipelineMetrics metrics,
        CheckpointHistory checkpoints,
        IActorRef users,
        IPartitionJournals journals,
        RecentAlerts recentAlerts,
        FraudMetrics prometheus)
    {
        Settings = settings;
        Checkpoints = checkpoints;
        _system = system;
        _producer = producer;
        _ingest = ingest;
        _users = users;
        _journals = journals;
        Metrics = metrics;
        RecentAlerts = recentAlerts;
        PrometheusMetrics = prometheus;
        Job = new FraudJob(settings.GroupId);
        Rates = new RateMeter(metrics);
        _endOffsets = new KafkaEndOffsets(settings.Bootstrap, KafkaClientConfigs.ConsumerProperties(settings));
        _database = Database(settings);
        prometheus.Bind(PartitionsAsync, ActiveUsersAsync);
    }

    public FraudSettings Settings { get; }

    public PipelineMetrics Metrics { get; }

    public CheckpointHistory Checkpoints { get; }

    /// <summary>This node's job; <see cref="FraudJob.StopRequested"/> completes when an operator stops or cancels it.</summary>
    public FraudJob Job { get; }

    public RecentAlerts RecentAlerts { get; }

    public RateMeter Rates { get; }

    public FraudMetrics PrometheusMetrics { get; }

    /// <summary>The HTTP API's address as bound; null when it could not be started.</summary>
    public Uri? HttpAddress => _http?.Address;

    /// <summary>This node's cluster address as host:port.</summary>
    public string NodeAddress => Cluster.Get(_system).SelfAddress is var a ? $"{a.Host}:{a.Port}" : string.Empty;

    public TimeSpan Uptime => DateTimeOffset.UtcNow - Job.Started;

    /// <summary>
    /// Completes when this node is no longer a cluster member: after it left on a stop, when
    /// the split-brain resolver downed it (unreachable from the majority), or when a member
    /// quarantined it (<see cref="QuarantineWatch"/>). A downed node must stop reading at once:
    /// its partitions already belong to the others.
    /// </summary>
    public Task RemovedFromCluster { get; private init; } = Task.CompletedTask;

    /// <summary>
    /// Completes, with the operator's message, when the SQLite store turns out not writable while
    /// running (disk full, permission denied): no retry helps, the node must stop.
    /// </summary>
    public Task<string> StoreFault { get; private init; } = new TaskCompletionSource<string>().Task;

    /// <summary>
    /// Completes, naming what, when this node's outbox publisher found that another publisher of
    /// the job took the outbox over (a second cluster of the job, or this node was frozen or
    /// split off while its cluster moved on): it publishes nothing more, and the node must stop.
    /// </summary>
    public Task<string> Fenced { get; private init; } = new TaskCompletionSource<string>().Task;

    public IReadOnlyList<string> ClusterMembers() =>
        [.. Cluster.Get(_system).State.Members.Select(m => m.Address.ToString())];

    public static async Task<FraudNode> StartAsync(FraudSettings settings, Action<Alert> onAlert, CancellationToken cancellationToken, Action<WindowResult>? onWindow = null)
    {
        LibRdKafka.EnsureLoaded();
        KafkaClientConfigs.Validate(settings);

        // The database first: a bad connection string, an unreachable database or a SQLite file
        // another node holds is reported before anything else starts.
        var ownership = settings.Store == JournalStore.Sqlite ? SqliteOwnership.Take(settings.Connection) : null;
        try
        {
            var node = await StartNodeAsync(settings, onAlert, onWindow, cancellationToken).ConfigureAwait(false);
            node._ownership = ownership;
            return node;
        }
        catch
        {
            ownership?.Dispose();
            throw;
        }
    }

    private static async Task<FraudNode> StartNodeAsync(FraudSettings settings, Action<Alert> onAlert, Action<WindowResult>? onWindow, CancellationToken cancellationToken)
    {
        var alertStore = AlertStore(settings);
        var windowStore = settings.Windows.Any ? WindowResultStore(settings) : null;
        var checkpointLog = CheckpointLog(settings);
        try
        {
            if (settings.Store == JournalStore.Sqlite)
            {
                await SqliteFaults.CheckWritableAsync(settings.Connection, cancellationToken).ConfigureAwait(false);
            }

            // Nodes starting together on a new PostgreSQL database create the tables one at a time.
            await using var schema = settings.Store == JournalStore.Postgres ? await SchemaLock.TakeAsync(settings.Connection, cancellationToken).ConfigureAwait(false) : null;
            await alertStore.InitializeAsync(cancellationToken).ConfigureAwait(false);
            if (windowStore is not null)
            {
                await windowStore.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }

            if (checkpointLog is not null)
            {
                await checkpointLog.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }

            if (Database(settings) is { } database)
            {
                await OutboxFence.CreateTableAsync(database, cancellationToken).ConfigureAwait(false);
                await PartitionFence.CreateTableAsync(database, cancellationToken).ConfigureAwait(false);
            }

            if (settings.Store == JournalStore.Postgres)
            {
                await StoreDiscovery.CreateTableAsync(settings.Connection, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (settings.Store == JournalStore.Sqlite && SqliteFaults.Describe(settings.Connection, e) is { } fault)
        {
            throw new StoreFaultException(fault, e);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException($"the {settings.Store} database is not reachable: {e.Message}", e);
        }

        var system = CreateSystem(settings);
        StoreDiscovery? discovery = null;
        try
        {
            var log = Logging.GetLogger(system, "fraud");
            var storeFault = settings.Store == JournalStore.Sqlite ? StoreFaultWatch.Start(system, settings.Connection) : new TaskCompletionSource<string>().Task;
            discovery = settings.Node.SeedNodes.Count == 0 && settings.Store == JournalStore.Postgres
                ? await StoreDiscovery.JoinAsync(system, settings.Connection, JobKey(settings), log, cancellationToken).ConfigureAwait(false)
                : null;
            if (discovery is null)
            {
                await JoinAsync(system, settings.Node, cancellationToken).ConfigureAwait(false);
            }

            var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Cluster.Get(system).RegisterOnMemberRemoved(() => removed.TrySetResult());
            _ = QuarantineWatch.Start(system, log).ContinueWith(_ => removed.TrySetResult(), TaskScheduler.Default);
            await CheckOneJobAsync(system, settings).ConfigureAwait(false);

            var (journals, users) = await StartShardsAsync(system, settings, log).ConfigureAwait(false);

            var producer = new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfigs.NodeProducer(settings))
                .SetErrorHandler((_, e) => log.Warning("Kafka producer: {0} ({1})", e.Reason, e.Code))
                .Build();
            var recentAlerts = new RecentAlerts();

            // The outboxes' own clients (reading the topics' tails) get the security settings too.
            var kafka = settings.KafkaCommon;

            // This node's pipeline inserts into the outbox tables; the cluster's one publisher
            // (a singleton, on the oldest node) puts the rows on the topics.
            // A bell per table wakes the publisher when it runs here, instead of its 200 ms poll.
            var alertBell = new OutboxBell();
            var windowBell = new OutboxBell();
            var outbox = new Outbox<Alert>(
                alertStore,
                producer,
                settings.Bootstrap,
                log,
                alert =>
                {
                    recentAlerts.Add(alert);
                    onAlert(alert);
                },
                alertBell,
                kafka);
            var windows = windowStore is null ? null : new Outbox<WindowResult>(windowStore, producer, settings.Bootstrap, log, onWindow, windowBell, kafka);
            // The publisher takes the outbox's epoch in the store (and, when configured, the job's
            // transactional ids): one of another cluster of the job, or a zombie of this one, is fenced.
            var fenced = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var owner = $"{Cluster.Get(system).SelfAddress} (process {Environment.ProcessId})";
            IReadOnlyList<IOutbox> Publishers()
            {
                var alerts = new Outbox<Alert>(alertStore, producer, settings.Bootstrap, log, bell: alertBell, kafka: kafka, transactionalId: TransactionalId(settings, "alerts"), fence: Fence(settings, "alerts", owner));
                var results = windowStore is null ? null : new Outbox<WindowResult>(windowStore, producer, settings.Bootstrap, log, bell: windowBell, kafka: kafka, transactionalId: TransactionalId(settings, "windows"), fence: Fence(settings, "windows", owner));
                alerts.Fenced.ContinueWith(_ => fenced.TrySetResult("the alert outbox's publisher was replaced by another publisher of this job"), TaskScheduler.Default);
                results?.Fenced.ContinueWith(_ => fenced.TrySetResult("the window outbox's publisher was replaced by another publisher of this job"), TaskScheduler.Default);
                return results is null ? [alerts] : [alerts, results];
            }

            system.ActorOf(
                ClusterSingletonManager.Props(
                    OutboxSingleton.PropsFor(Publishers),
                    DrainOutbox.Instance,
                    ClusterSingletonManagerSettings.Create(system)),
                OutboxManagerName);

            var metrics = new PipelineMetrics();
            var prometheus = new FraudMetrics(metrics);
            var history = new CheckpointHistory(settings.Checkpoints.Retained, checkpointLog);

            // Each partition's checkpoints are fenced by an epoch in the store, as the outbox is.
            var database = Database(settings);
            var partitionFence = database is null ? null : new PartitionFence(database, JobKey(settings), owner);
            partitionFence?.Fenced.ContinueWith(t => fenced.TrySetResult(t.Result), TaskScheduler.Default);
            var pipeline = new TransactionPipeline(
                users,
                journals,
                new TransactionParser(
                    settings.Ingest.MaxRecordBytes,
                    settings.Time.Characteristic == TimeCharacteristic.EventTime ? settings.Ingest.Timestamps : TimestampBounds.None,
                    settings.Ingest.MaxAbsAmount),
                outbox,
                new DeadLetterPublisher(producer, settings.Topics.DeadLetters),
                new PipelineSettings(settings.Ingest.Parallelism, settings.Ingest.AskTimeout),
                settings.Checkpoints with { Fence = partitionFence },
                history,
                metrics,
                log,
                new PipelineTime(settings.Time, windows, settings.PublishLate ? new DeadLetterPublisher(producer, settings.Topics.Late) : null));
            var source = KafkaSourceSettings.Create(KafkaClientConfigs.NodeConsumer(settings), settings.Topics.Transactions);
            var ingest = new TransactionIngest(
                pipeline,
                journals,
                source,
                system.Materializer(),
                log,
                database is null ? null : () => database.ExecuteAsync("SELECT 1", CancellationToken.None));
            ingest.Start();
            log.Info("FraudActors node up at {0}, reading {1} from {2}", Cluster.Get(system).SelfAddress, settings.Topics.Transactions, settings.Bootstrap);
            log.Info(
                "Time: {0}, watermark bound {1}, idle timeout {2}; windows: {3}; rules: {4}",
                settings.Time.Characteristic,
                settings.Time.Watermarks.OutOfOrderness,
                settings.Time.Watermarks.IdleTimeout?.ToString() ?? "off",
                DescribeWindows(settings.Windows),
                string.Join(", ", settings.Rules.Rules.Select(r => r.Name)));
            var node = new FraudNode(settings, system, producer, ingest, metrics, history, users, journals, recentAlerts, prometheus)
            {
                RemovedFromCluster = removed.Task,
                StoreFault = storeFault,
                Fenced = fenced.Task,
                _discovery = discovery,
            };
            await node.StartHttpAsync(log, cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            if (discovery is not null)
            {
                await discovery.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>The job a node serves: its consumer group and input topic (a cluster serves one).</summary>
    private static string JobKey(FraudSettings settings) => settings.GroupId + "/" + settings.Topics.Transactions;

    /// <summary>
    /// The two shard regions: the partition journals (one per partition in the whole cluster)
    /// and the users. Both follow the consumer group's assignment (shard = partition, allocated to
    /// the node that reads it); with <c>--shard-allocation hash</c> users are spread by a hash instead.
    /// </summary>
    private static async Task<(IPartitionJournals Journals, IActorRef Users)> StartShardsAsync(ActorSystem system, FraudSettings settings, ILoggingAdapter log)
    {
        const string UserType = "user";
        var hashed = settings.Node.ShardAllocation == ShardPlacement.Hash;
        var placement = new PartitionPlacement(system, hashed ? [ShardedPartitionJournals.TypeName] : [ShardedPartitionJournals.TypeName, UserType], log);
        var journals = await ShardedPartitionJournals.StartAsync(system, settings.Topics.Transactions, new PartitionJournalSettings(), placement).ConfigureAwait(false);

        // A host per shard whose children are the users (docs/design.md, "Direct delivery"): it
        // passivates idle users and, on hand-off, has each hand its state to its partition
        // journal before it stops.
        var users = await UserRegion.StartAsync(
            system,
            UserType,
            settings.UserSettings,
            journals,
            settings.PassivateAfter,
            hashed ? null : placement.StrategyFor(UserType),
            hashed ? HashShards : 0).ConfigureAwait(false);
        if (!hashed)
        {
            placement.Follow(UserType, users);
        }

        return (journals, users);
    }

    /// <summary>Shards of <c>--shard-allocation hash</c>: ten per node of a large cluster, as Akka advises.</summary>
    private const int HashShards = 100;

    /// <summary>Drains the records in flight, commits their offsets, flushes alerts and leaves the cluster.</summary>
    public Task StopAsync() => EndAsync(StopMode.Stop);

    /// <summary>
    /// Stops reading at once and stops without a final checkpoint (Flink's cancel): a restart
    /// resumes from the last checkpoint. Alerts already in the table are still published.
    /// </summary>
    public Task CancelAsync() => EndAsync(StopMode.Cancel);

    /// <summary>Where each assigned partition stands: offsets, lag against Kafka's end offsets, watermark.</summary>
    public async Task<IReadOnlyList<PartitionView>> PartitionsAsync(CancellationToken cancellationToken)
    {
        var positions = Metrics.Partitions.Snapshot();
        var topic = Settings.Topics.Transactions;
        IReadOnlyDictionary<int, long>? ends = null;
        try
        {
            ends = await Task.Run(() => _endOffsets.Query(topic, positions.Select(p => p.Partition), QueryTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException)
        {
            // Kafka did not answer: end offsets and lag are unknown (null); /readyz says why.
        }

        return [.. positions.Select(p =>
        {
            long? end = ends is not null && ends.TryGetValue(p.Partition, out var e) ? e : null;
            return new PartitionView(
                topic,
                p.Partition,
                p.CurrentOffset,
                p.CommittedOffset,
                end,
                end is { } high ? Math.Max(0, high - (p.CommittedOffset ?? 0)) : null,
                p.WatermarkMs is { } w ? JobView.Iso(DateTimeOffset.FromUnixTimeMilliseconds(w)) : null);
        })];
    }

    /// <summary>
    /// A user's live state, asked of its actor; null for a user with no state here. Its shard is
    /// its partition: known for users that received records lately, else found by asking the
    /// assigned partitions' journals for its checkpointed state.
    /// </summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> UserAsync(string userId, CancellationToken cancellationToken)
    {
        var partition = Metrics.Partitions.PartitionOf(userId);
        if (partition is null)
        {
            foreach (var p in Metrics.Partitions.Assigned)
            {
                var loaded = await _journals.For(p).Ask<UserLoaded>(new LoadUser(userId), QueryTimeout, cancellationToken).ConfigureAwait(false);
                if (loaded.State is not null)
                {
                    partition = p;
                    break;
                }
            }
        }

        if (partition is not { } found)
        {
            return null;
        }

        var current = await _users.Ask<CurrentUserState>(new GetUserState(found, userId), QueryTimeout, cancellationToken).ConfigureAwait(false);
        return UserStateView.Render(UserStateCodec.Decode(current.State, Settings.UserSettings), found);
    }

    /// <summary>What keeps this node from being ready (empty: ready): Kafka, the database, assigned partitions.</summary>
    public async Task<IReadOnlyList<string>> NotReadyAsync(CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        if (Job.State != FraudJob.Running)
        {
            missing.Add($"job: {Job.State}");
        }

        var assigned = Metrics.Partitions.Assigned;
        try
        {
            await Task.Run(() => _endOffsets.Query(Settings.Topics.Transactions, assigned.Count > 0 ? assigned : [0], QueryTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            missing.Add($"kafka: {Settings.Bootstrap} did not answer: {e.Error.Reason}");
        }

        if (_database is not null)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(QueryTimeout);
                await using var connection = await _database.OpenAsync(timeout.Token).ConfigureAwait(false);
                await using var command = SqlDatabase.Command(connection, "SELECT 1");
                await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or OperationCanceledException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                missing.Add($"database: the {Settings.Store} database is not reachable: {e.Message}");
            }
        }

        if (assigned.Count == 0)
        {
            missing.Add($"partitions: none of '{Settings.Topics.Transactions}' assigned yet (consumer group '{Settings.GroupId}')");
        }

        return missing;
    }

    /// <summary>User actors alive on this node, as its user hosts count them (no message: the region's statistics count hosts).</summary>
    public Task<int?> ActiveUsersAsync() => Task.FromResult<int?>(UserHostRegistry.Users(_users));

    /// <summary>
    /// Binds the HTTP API. An address that cannot be bound (a port already taken) stops the start
    /// with a message naming --http: a node whose health probes cannot answer must not run on
    /// silently. Several nodes on one machine each get their own --http (port 0: any free port).
    /// </summary>
    private async Task StartHttpAsync(ILoggingAdapter log, CancellationToken cancellationToken)
    {
        var endpoint = Http.HttpAddress.Parse(Settings.Http);
        try
        {
            _http = await HttpApi.StartAsync(this, endpoint, log, cancellationToken).ConfigureAwait(false);
            log.Info("HTTP API and dashboard on {0}", _http.Address);
        }
        catch (IOException e)
        {
            throw new Configuration.ConfigurationException($"--http: cannot listen on {endpoint}: {e.Message}; choose another address (--http 127.0.0.1:0 takes any free port)");
        }
    }

    private async Task EndAsync(StopMode mode)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        Job.MarkStopping();
        if (mode == StopMode.Cancel)
        {
            await _ingest.CancelAsync().ConfigureAwait(false);
        }
        else
        {
            await _ingest.StopAsync().ConfigureAwait(false);
        }

        await DrainOutboxAsync(mode).ConfigureAwait(false);
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        Job.MarkEnded(mode);
        Rates.Dispose();
        _endOffsets.Dispose();
        if (_http is not null)
        {
            await _http.DisposeAsync().ConfigureAwait(false);
        }

        if (_discovery is not null)
        {
            await _discovery.DisposeAsync().ConfigureAwait(false);
        }

        _ownership?.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private const string OutboxManagerName = "outbox";

    /// <summary>
    /// When the cluster's outbox publisher runs here, it publishes what is left before the node
    /// leaves (stop and cancel alike: the rows are in the table either way); the next oldest
    /// node's publisher takes over after. Elsewhere there is nothing to drain.
    /// </summary>
    private async Task DrainOutboxAsync(StopMode mode)
    {
        if (_system.WhenTerminated.IsCompleted)
        {
            // Downed: the system and its publisher are gone; the next publisher reads the tails.
            return;
        }

        IActorRef publisher;
        try
        {
            publisher = await _system.ActorSelection($"/user/{OutboxManagerName}/singleton").ResolveOne(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (ActorNotFoundException)
        {
            return;
        }

        try
        {
            await publisher.Ask<OutboxDrained>(DrainOutbox.Instance, OutboxDrainTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            Logging.GetLogger(_system, "fraud").Warning("Outbox not drained within {0} ({1}): unpublished rows stay in the tables for the next publisher", OutboxDrainTimeout, mode);
        }
    }

    /// <summary>Longer than the publisher's own drain limit, so its answer comes first.</summary>
    private static readonly TimeSpan OutboxDrainTimeout = TimeSpan.FromSeconds(20);

    private static Akka.Configuration.Config AkkaConfig(FraudSettings settings)
    {
        var derived = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            akka.remote.dot-netty.tcp.hostname = "{settings.Node.Hostname}"
            akka.remote.dot-netty.tcp.port = {settings.Node.Port}
            akka.cluster.roles = ["{JobRole(settings)}"]
            akka.remote.dot-netty.tcp.enable-ssl = {(settings.Node.Tls is null ? "off" : "on")}
            """));
        return derived
            .WithFallback(JournalStore.Config(settings.Store, settings.Connection))
            .WithFallback(settings.Hocon)
            // Sharding's, the singleton's and distributed data's settings and serializers from the
            // start: other nodes may send their messages before this node's sharding has started.
            .WithFallback(ClusterSharding.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig())
            .WithFallback(Akka.DistributedData.DistributedData.DefaultConfig());
    }

    private const string JobRolePrefix = "job-";

    /// <summary>
    /// The node's job as a cluster role: its consumer group and topic (hex, so any name fits a
    /// role). Nodes that join one cluster must run one job; <see cref="CheckOneJobAsync"/> compares.
    /// </summary>
    private static string JobRole(FraudSettings settings) =>
        JobRolePrefix + Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(settings.GroupId + "\n" + settings.Topics.Transactions));

    /// <summary>
    /// A node that joined a cluster running another job (other consumer group or topic) leaves
    /// and stops with a message naming both: one cluster, one job.
    /// </summary>
    private static async Task CheckOneJobAsync(ActorSystem system, FraudSettings settings)
    {
        var cluster = Cluster.Get(system);
        var mine = JobRole(settings);
        var other = cluster.State.Members
            .Where(m => m.Address != cluster.SelfAddress)
            .Select(m => (m.Address, Role: m.Roles.FirstOrDefault(r => r.StartsWith(JobRolePrefix, StringComparison.Ordinal))))
            .FirstOrDefault(m => m.Role is not null && m.Role != mine);
        if (other.Role is null)
        {
            return;
        }

        var job = System.Text.Encoding.UTF8.GetString(Convert.FromHexString(other.Role[JobRolePrefix.Length..])).Split('\n');
        using (var leaving = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await cluster.LeaveAsync(leaving.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        throw new Configuration.ConfigurationException(
            $"--group/--topic: this node runs group '{settings.GroupId}' on topic '{settings.Topics.Transactions}', but cluster node {other.Address} runs group '{job[0]}' on topic '{job[^1]}'; the nodes of one cluster must run one job");
    }

    /// <summary>The actor system on the node's address; an address that cannot be bound fails naming --node-port.</summary>
    private static ActorSystem CreateSystem(FraudSettings settings)
    {
        try
        {
            var setup = BootstrapSetup.Create().WithConfig(AkkaConfig(settings));
            return settings.Node.Tls is { } tls
                ? ActorSystem.Create("fraud", setup.And(RemotingTls.Setup(tls)))
                : ActorSystem.Create("fraud", setup);
        }
        catch (Exception e) when (Innermost(e) is System.Net.Sockets.SocketException socket)
        {
            throw new Configuration.ConfigurationException(
                $"--node-port: cannot listen on {settings.Node.Hostname}:{settings.Node.Port}: {socket.Message}; choose another port (0 takes any free one) or --node-hostname");
        }

        static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;
    }

    /// <summary>
    /// Joins the cluster: the seed nodes when some are configured (retrying until one answers,
    /// as Akka does), else this node alone. Returns once this node is Up.
    /// </summary>
    private static async Task JoinAsync(ActorSystem system, NodeSettings node, CancellationToken cancellationToken)
    {
        var cluster = Cluster.Get(system);
        var up = MemberUp.Register(system);
        if (node.SeedNodes.Count == 0)
        {
            await MemberUp.WaitAsync(system, cluster.JoinAsync(cluster.SelfAddress, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var seeds = node.SeedNodes.Select(s => new Address(cluster.SelfAddress.Protocol, system.Name, s.Host, s.Port)).ToList();
            await MemberUp.WaitAsync(system, cluster.JoinSeedNodesAsync(seeds, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        await MemberUp.WaitAsync(system, up, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The alerts table lives in the same database as the partition journals.</summary>
    private static IOutboxTable<Alert> AlertStore(FraudSettings settings)
    {
        try
        {
            return OutboxTable.Open(settings.Store, settings.Connection, AlertCodec.For(settings.Topics.Alerts));
        }
        catch (ArgumentException e)
        {
            throw new Configuration.ConfigurationException($"--connection: not a valid {settings.Store} connection string: {e.Message}");
        }
    }

    /// <summary>The window results table, beside the alerts table.</summary>
    private static IOutboxTable<WindowResult> WindowResultStore(FraudSettings settings) =>
        OutboxTable.Open(settings.Store, settings.Connection, WindowResultCodec.For(settings.Topics.WindowCounts, settings.Topics.Sessions));

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
    public static ICheckpointLog? CheckpointLog(FraudSettings settings) =>
        Database(settings) is { } database ? new SqlCheckpointLog(database) : null;

    /// <summary>The fence of one outbox of the job in the store (none for the memory store, which one process holds).</summary>
    private static OutboxFence? Fence(FraudSettings settings, string outbox, string owner) =>
        Database(settings) is { } database ? new OutboxFence(database, JobKey(settings), outbox, owner) : null;

    /// <summary>The job's transactional id of one outbox when <c>fraud.outbox.transactional</c> is on; null otherwise.</summary>
    private static string? TransactionalId(FraudSettings settings, string outbox) =>
        settings.TransactionalOutbox ? $"fraud-outbox-{settings.GroupId}-{settings.Topics.Transactions}-{outbox}" : null;

    /// <summary>The store's database (null for the memory store): the journals, alerts and checkpoint tables live there.</summary>
    private static SqlDatabase? Database(FraudSettings settings) => settings.Store switch
    {
        JournalStore.Postgres => SqlDatabase.PostgreSql(settings.Connection),
        JournalStore.Sqlite => SqlDatabase.Sqlite(settings.Connection),
        _ => null,
    };
}
