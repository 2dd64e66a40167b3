using Akka;
using Akka.Cluster.Sharding;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Composition;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Windows;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Engine throughput without Kafka: pre-generated transaction records (bytes, as Kafka hands
/// them over) of many distinct users go through the service's own pipeline — parse, the shard
/// region, user actors with the sliding-velocity rule, alerts into the alerts table — with
/// checkpoints every 10 s into the store's partition journals. Two baselines in the same run:
/// one thread parsing the same bytes and applying the same rule code to a dictionary of user
/// states (no actors, no persistence), and raw Akka sharding (<see cref="RawShardingBaseline"/>:
/// the same parse and rule code in plain sharded actors told each record, no reply, no
/// persistence; after the pipeline, from a collected heap). All three must raise the same alerts.
/// </summary>
/// <remarks>
/// Per record, the dispatch work of the pipeline and of raw sharding: actor messages (every
/// mailbox of their systems counts, <see cref="CountingMailbox"/>) and thread-pool work items
/// completed in the process meanwhile.
/// </remarks>
public sealed class EngineScenario(int transactions, int users, TimeSpan checkpointEvery, string rules = EngineScenario.LabRules) : IBenchScenario
{
    /// <summary>The lab's rule alone (sliding velocity): windows and the state TTL are other scenarios' cost.</summary>
    public const string LabRules = "lab";

    /// <summary>The node's default rule set as <c>fraud run</c> configures it: sliding velocity, tumbling and session windows, the state TTL, <c>tx_id</c> deduplication.</summary>
    public const string NodeRules = "node";

    private const int Partitions = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>The users' settings of <see cref="LabRules"/> or <see cref="NodeRules"/>, read once.</summary>
    private readonly UserSettings _settings = rules == NodeRules
        ? FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [], configFile: null, environmentName: null, _ => null)).UserSettings
        : new(RuleSettings.Default);

    /// <summary>Users started by the start-cost measurement (<see cref="UserStartCost"/>), at most.</summary>
    private const int StartsMeasured = 50_000;

    public string Name => "engine";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        // Warm-up rounds first, on other users and topics of their own, as BenchmarkDotNet warms
        // up: a node runs for hours, and the first seconds of a process are spent compiling its
        // code (tiered JIT with dynamic PGO: ~30,000 methods, the hot ones compiled up to three
        // times), which is not what a node's throughput is. Rounds repeat until one compiles
        // fewer than 2 % more methods (at most four): one round left the record path's methods
        // still in their instrumented tier during the measured run.
        var warmUp = new List<KafkaRecord>();
        for (var round = 0; round < 4; round++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            warmUp = Records(Topic(), seed: 6 + round, Math.Min(transactions / 4, 100_000), Math.Min(users, 20_000));
            Baseline(warmUp);
            await PipelineAsync(context, warmUp[0].Topic, warmUp, checkpointEvery, stop).ConfigureAwait(false);
            await RawShardingAsync(context, warmUp, stop).ConfigureAwait(false);
            if (round > 0 && System.Runtime.JitInfo.GetCompiledMethodCount() < compiled * 1.02)
            {
                break;
            }
        }

        var topic = Topic();
        var records = Records(topic, seed: 5, transactions, users);
        context.Say(string.Create(CultureInfo.InvariantCulture, $"engine: {records.Count} transactions of {users} users on {Partitions} partitions, {(rules == NodeRules ? "the node's default rules (sliding velocity, tumbling and session windows, state TTL, tx_id dedup)" : "sliding-velocity only")}, checkpoints every {checkpointEvery.TotalSeconds:0} s on {context.Store} (after warm-up rounds of {warmUp.Count})"));
        var (baselineSeconds, baselineAlerts) = Baseline(records);
        var (seconds, cpuSeconds, gc, alerts, checkpoints, dip, counts) = await PipelineAsync(context, topic, records, checkpointEvery, stop).ConfigureAwait(false);
        var raw = await RawShardingAsync(context, records, stop).ConfigureAwait(false);
        var (start, bareStart) = await UserStartCost.MeasureAsync(_settings, Math.Min(users, StartsMeasured), stop).ConfigureAwait(false);
        var rate = records.Count / seconds;
        var baselineRate = records.Count / baselineSeconds;
        var rawRate = records.Count / raw.Seconds;
        context.Figure(Name, "tx_per_s", rate);
        context.Figure(Name, "baseline_tx_per_s", baselineRate);
        context.Figure(Name, "ratio", rate / baselineRate);
        context.Figure(Name, "raw_sharding_tx_per_s", rawRate);
        context.Figure(Name, "ratio_to_raw", rate / rawRate);
        context.Figure(Name, "actor_msgs_per_tx", counts.ActorMessagesPer(records.Count));
        context.Figure(Name, "threadpool_items_per_tx", counts.ThreadPoolItemsPer(records.Count));
        context.Figure(Name, "raw_actor_msgs_per_tx", raw.Counts.ActorMessagesPer(records.Count));
        context.Figure(Name, "raw_threadpool_items_per_tx", raw.Counts.ThreadPoolItemsPer(records.Count));
        context.Figure(Name, "checkpoints", checkpoints.Count);
        if (checkpoints.Count > 0)
        {
            context.Figure(Name, "checkpoint_max_ms", checkpoints.Max(c => c.Milliseconds));
            context.Figure(Name, "checkpoint_max_users", checkpoints.Max(c => c.Users));
        }

        if (dip is { } d)
        {
            context.Figure(Name, "checkpoint_dip", d);
        }

        context.Figure(Name, "cpu_us_per_tx", cpuSeconds * 1e6 / records.Count);
        context.Figure(Name, "alloc_bytes_per_tx", gc.AllocatedPerRecord);
        context.Figure(Name, "gc_pause_share", gc.PauseShare);
        context.Line(
            Name,
            ("transactions", records.Count),
            ("users", users),
            ("rules", rules),
            ("tx_per_s", Math.Round(rate)),
            ("baseline_tx_per_s", Math.Round(baselineRate)),
            ("ratio", rate / baselineRate),
            ("raw_sharding_tx_per_s", Math.Round(rawRate)),
            ("ratio_to_raw", rate / rawRate),
            ("checkpoints", checkpoints.Count),
            ("checkpoint_max_ms", checkpoints.Count > 0 ? Math.Round(checkpoints.Max(c => c.Milliseconds)) : 0),
            ("checkpoint_max_users", checkpoints.Count > 0 ? checkpoints.Max(c => c.Users) : 0),
            ("checkpoint_dip", dip is { } shown ? shown.ToString("0.000", CultureInfo.InvariantCulture) : "n/a"),
            ("cpu_us_per_tx", Math.Round(cpuSeconds * 1e6 / records.Count, 1)),
            ("alloc_bytes_per_tx", Math.Round(gc.AllocatedPerRecord)),
            ("gc", $"{gc.Gen0}/{gc.Gen1}/{gc.Gen2}"),
            ("gc_pause_share", Math.Round(gc.PauseShare, 3)),
            ("actor_msgs_per_tx", Math.Round(counts.ActorMessagesPer(records.Count), 2)),
            ("threadpool_items_per_tx", Math.Round(counts.ThreadPoolItemsPer(records.Count), 2)),
            ("raw_actor_msgs_per_tx", Math.Round(raw.Counts.ActorMessagesPer(records.Count), 2)),
            ("raw_threadpool_items_per_tx", Math.Round(raw.Counts.ThreadPoolItemsPer(records.Count), 2)),
            ("alerts", alerts));
        context.Figure(Name, "user_start_us", start.CpuMicroseconds);
        context.Figure(Name, "user_start_bytes", start.Bytes);
        context.Figure(Name, "bare_actor_start_us", bareStart.CpuMicroseconds);
        context.Figure(Name, "bare_actor_start_bytes", bareStart.Bytes);
        context.Figure(Name, "user_start_ratio_to_bare", start.CpuMicroseconds / bareStart.CpuMicroseconds);
        context.Line(
            Name + "-starts",
            ("starts", Math.Min(users, StartsMeasured)),
            ("user_starts_per_s", Math.Round(start.PerSecond)),
            ("user_start_us", Math.Round(start.CpuMicroseconds, 1)),
            ("user_start_bytes", Math.Round(start.Bytes)),
            ("user_gc_pause_share", Math.Round(start.PauseShare, 3)),
            ("bare_actor_starts_per_s", Math.Round(bareStart.PerSecond)),
            ("bare_actor_start_us", Math.Round(bareStart.CpuMicroseconds, 1)),
            ("bare_actor_start_bytes", Math.Round(bareStart.Bytes)),
            ("bare_gc_pause_share", Math.Round(bareStart.PauseShare, 3)),
            ("ratio_to_bare", start.CpuMicroseconds / bareStart.CpuMicroseconds));
        if (alerts != baselineAlerts)
        {
            context.Say($"engine: the pipeline raised {alerts} alerts, the baseline {baselineAlerts}: the figures compare different work");
        }

        if (raw.Alerts != baselineAlerts)
        {
            context.Say($"engine: raw sharding raised {raw.Alerts} alerts, the baseline {baselineAlerts}: the figures compare different work");
        }
    }

    /// <summary>The stream as the topic would hold it: a user's records on one partition (as Kafka's key hashing does), offsets in order.</summary>
    private static List<KafkaRecord> Records(string topic, int seed, int transactions, int users)
    {
        var generator = new TransactionGenerator(new GeneratorOptions(Seed: seed, Users: users, Rate: users / 30.0, Service.Cli.ProduceCommand.SeededStart, transactions));
        var offsets = new long[Partitions];
        return [.. generator.Generate().Select(TransactionGenerator.ToRecord).Select(r =>
        {
            var partition = (int)(UserMessageRouter.StableHash(r.Key!) % Partitions);
            return new KafkaRecord(topic, partition, offsets[partition]++, System.Text.Encoding.UTF8.GetBytes(r.Key!), r.Value, DateTimeOffset.UnixEpoch);
        })];
    }

    /// <summary>One thread, a dictionary, the same parser and rule code: what the actors' work costs without them.</summary>
    private (double Seconds, long Alerts) Baseline(List<KafkaRecord> records)
    {
        var parser = new TransactionParser();
        var settings = _settings;
        var states = new Dictionary<string, UserState>(StringComparer.Ordinal);
        var alerts = 0L;
        var clock = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        foreach (var record in records)
        {
            var tx = parser.Parse(record.Key, record.Key is not null, record.Value).Transaction!;
            var state = states.TryGetValue(tx.UserId, out var known) ? known : UserState.Empty(tx.UserId);
            var outcome = state.Apply(new ApplyTransaction(record.Partition, record.Offset, tx), settings, now);
            states[tx.UserId] = outcome.State;
            alerts += outcome.Alerts.Count;
        }

        return (clock.Elapsed.TotalSeconds, alerts);
    }

    /// <summary>
    /// Raw sharding on <paramref name="records"/>, from a collected heap: the pipeline's system,
    /// terminated just before with its users, is not the raw run's garbage to collect.
    /// </summary>
    private Task<RawShardingRun> RawShardingAsync(BenchContext context, List<KafkaRecord> records, CancellationToken stop)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return RawShardingBaseline.RunAsync(context, records, _settings, Timeout, stop);
    }

    private static string Topic() => "engine-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Runs <paramref name="records"/> through the service's pipeline on a fresh one-node cluster, timed from the first record to the stream's completion.</summary>
    private async Task<PipelineFigures> PipelineAsync(BenchContext context, string topic, List<KafkaRecord> records, TimeSpan checkpointEvery, CancellationToken stop)
    {
        var system = BenchData.StartClusterSystem(context, "bench-engine", config: CountingMailbox.Hocon);
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), Partitions);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        try
        {
            await BenchData.JoinSelfAsync(system, stop).ConfigureAwait(false);
            var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());
            var region = await UserRegion.StartAsync(system, "user", _settings, journals, passivateAfter: TimeSpan.Zero).ConfigureAwait(false);
            await UserRegion.WakeHostsAsync(region, Enumerable.Range(0, Partitions), stop).ConfigureAwait(false);
            var alerts = OutboxTable.Open(context.Store, context.Connection, AlertCodec.For("alerts"));
            await alerts.InitializeAsync(stop).ConfigureAwait(false);
            var windowStore = OutboxTable.Open(context.Store, context.Connection, WindowResultCodec.For("user-window-counts", "user-sessions"));
            await windowStore.InitializeAsync(stop).ConfigureAwait(false);
            var history = new CheckpointHistory(100);
            var metrics = new PipelineMetrics();
            var pipeline = new JobPipeline(
                region,
                journals,
                new TableOnly<Alert>(alerts),
                new DeadLetterPublisher(producer, "transactions.dlq"),
                CheckpointSettings.Default with { Interval = checkpointEvery },
                history,
                metrics,
                system.Log)
            {
                Time = new PipelineTime(TimeSettings.Default, new TableOnly<WindowResult>(windowStore)),
            }.Build();
            var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, new Partition(p))).ToList();
            var source = Source.Single<SourceEvent>(new PartitionsAssigned(partitions)).Concat(Source.From<SourceEvent>(records));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var allocated = GC.GetTotalAllocatedBytes();
            var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var paused = GC.GetTotalPauseDuration();
            var counts = DispatchCounts.Now();
            var clock = Stopwatch.StartNew();
            using var sampling = new CancellationTokenSource();
            var throughput = SampleAsync(metrics, clock, sampling.Token);
            var run = pipeline.Run(source, new NoConsumerGroup(), topic, system.Materializer(), generation: 1);
            await run.Completion.WaitAsync(Timeout, stop).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var dispatched = DispatchCounts.Now().Since(counts);
            await sampling.CancelAsync().ConfigureAwait(false);
            var samples = await throughput.ConfigureAwait(false);
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            var gc = new GcFigures(
                (GC.GetTotalAllocatedBytes() - allocated) / (double)records.Count,
                GC.CollectionCount(0) - collections.Item1,
                GC.CollectionCount(1) - collections.Item2,
                GC.CollectionCount(2) - collections.Item3,
                (GC.GetTotalPauseDuration() - paused).TotalSeconds / seconds);
            var checkpoints = history.Snapshot().GroupBy(c => c.Epoch).Select(e => new CheckpointFigures(e.Max(c => c.Duration.TotalMilliseconds), e.Sum(c => c.UsersPersisted))).ToList();
            return new PipelineFigures(seconds, cpuSeconds, gc, metrics.Alerts, checkpoints, Dip(samples), dispatched);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>Records applied so far, every 100 ms, and whether a checkpoint was under way.</summary>
    private static async Task<List<(double Seconds, long Applied, bool Checkpointing)>> SampleAsync(PipelineMetrics metrics, Stopwatch clock, CancellationToken stop)
    {
        var samples = new List<(double, long, bool)>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                samples.Add((clock.Elapsed.TotalSeconds, metrics.Applied, metrics.CheckpointsInProgress > 0));
            }
        }
        catch (OperationCanceledException)
        {
        }

        return samples;
    }

    /// <summary>
    /// The throughput dip while a checkpoint runs: 1 - (records/s over the 100 ms intervals with a
    /// checkpoint under way) / (records/s over the others); null when no interval had one.
    /// </summary>
    private static double? Dip(List<(double Seconds, long Applied, bool Checkpointing)> samples)
    {
        double inRecords = 0, inSeconds = 0, outRecords = 0, outSeconds = 0;
        for (var i = 1; i < samples.Count; i++)
        {
            var (records, seconds) = (samples[i].Applied - samples[i - 1].Applied, samples[i].Seconds - samples[i - 1].Seconds);
            if (samples[i].Checkpointing || samples[i - 1].Checkpointing)
            {
                (inRecords, inSeconds) = (inRecords + records, inSeconds + seconds);
            }
            else
            {
                (outRecords, outSeconds) = (outRecords + records, outSeconds + seconds);
            }
        }

        return inSeconds > 0 && outRecords > 0 ? 1 - (inRecords / inSeconds / (outRecords / outSeconds)) : null;
    }

    /// <summary>A pipeline run: its wall-clock seconds, the process's CPU seconds meanwhile (every core: the actors', the stream's, the GC's and the database client's), and what it did.</summary>
    private sealed record PipelineFigures(double Seconds, double CpuSeconds, GcFigures Gc, long Alerts, List<CheckpointFigures> Checkpoints, double? Dip, DispatchCounts Counts);

    /// <summary>One checkpoint: its longest partition's duration, and the users it persisted.</summary>
    private sealed record CheckpointFigures(double Milliseconds, int Users);

    /// <summary>What the garbage collector did meanwhile: bytes allocated per record, collections of each generation, the share of the time paused.</summary>
    private sealed record GcFigures(double AllocatedPerRecord, int Gen0, int Gen1, int Gen2, double PauseShare);

    /// <summary>Outputs go into their table as on a node (one insert per group); publishing them is the outbox's work, measured with Kafka.</summary>
    private sealed class TableOnly<T>(IOutboxTable<T> table) : IOutputSink<T>
    {
        public Task PublishAsync(T output, CancellationToken cancellationToken) => table.AddAsync(output, cancellationToken);

        public Task PublishAsync(IReadOnlyList<T> outputs, CancellationToken cancellationToken) => table.AddRangeAsync(outputs, cancellationToken);
    }

}
