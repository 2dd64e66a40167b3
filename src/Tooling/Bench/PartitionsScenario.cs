using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Composition;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;
using FraudActors.Tooling.Drill;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// What a partition costs: the same stream (same users, records and rules: the node's defaults)
/// through one node with <see cref="Many"/> partitions against the baseline of <see cref="Few"/>,
/// on the same store, in two ways.
/// <list type="bullet">
/// <item><b>kafka</b>: <see cref="KafkaScenario"/>'s run — a fresh dev broker whose topics have that
/// many partitions, filled before a fresh <see cref="BenchNode"/> starts, timed from the node's
/// first record read until every record's offset is in a committed checkpoint and every alert is
/// on the alerts topic. Everything a partition adds is in it (its journal and user host, its
/// clock, its share of every checkpoint, the consumer's fetches), but the dev broker keeps ~5 MiB
/// a partition, so the stream is short (90,000 records on 3 partitions) and the wait for its last
/// checkpoint weighs on the rate.</item>
/// <item><b>engine</b>: <see cref="EngineScenario"/>'s run — the node's pipeline over an in-process
/// source (no broker, no consumer), as long a stream as wanted: journals, hosts, clocks and
/// checkpoints per partition, timed from the first record to the stream's end.</item>
/// </list>
/// </summary>
/// <remarks>
/// Warm-up runs of each count on other users go first (a process's first seconds are the JIT's);
/// then the measured rounds alternate the order (few, many; many, few; …) so that a drift of the
/// shared machine weighs on both. Ratios are of the medians.
/// </remarks>
public sealed class PartitionsScenario(int kafkaTransactions, int engineTransactions, int rounds) : IBenchScenario
{
    public const int Few = 3;
    public const int Many = 48;

    /// <summary>Users of both streams: KafkaScenario's, so a user has ~4.5 records of 90,000.</summary>
    private const int Users = 20_000;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromSeconds(1);

    /// <summary>The node's default rule set, as <c>fraud run</c> configures it.</summary>
    private readonly UserSettings _settings = FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [], configFile: null, environmentName: null, _ => null)).UserSettings;

    public string Name => "partitions";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        var kafkaWarmUp = Generate(seed: 12, Math.Max(kafkaTransactions / 4, 5_000));
        var engineWarmUp = Generate(seed: 13, Math.Max(engineTransactions / 4, 20_000));
        foreach (var partitions in new[] { Few, Many })
        {
            await KafkaRunAsync(context, kafkaWarmUp, partitions, stop).ConfigureAwait(false);
            await EngineRunAsync(context, engineWarmUp, partitions, stop).ConfigureAwait(false);
        }

        var kafka = Generate(seed: 11, kafkaTransactions);
        var engine = Generate(seed: 14, engineTransactions);
        context.Say(string.Create(CultureInfo.InvariantCulture, $"partitions: {Few} against {Many} partitions, one node on {context.Store}, the node's default rules, checkpoints every {CheckpointEvery.TotalSeconds:0} s; kafka: {kafkaTransactions} transactions of {Users} users on the dev broker ({kafka.Alerts} alerts expected); engine: {engineTransactions} transactions of the same users, in-process source; {rounds} rounds after warm-ups"));
        var runs = new Dictionary<(string, int), List<Run>>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var partitions in round % 2 == 1 ? new[] { Few, Many } : [Many, Few])
            {
                Report(context, runs, "kafka", round, partitions, kafkaTransactions, await KafkaRunAsync(context, kafka, partitions, stop).ConfigureAwait(false));
                Report(context, runs, "engine", round, partitions, engineTransactions, await EngineRunAsync(context, engine, partitions, stop).ConfigureAwait(false));
            }
        }

        Summarize(context, runs, "kafka", kafkaTransactions);
        Summarize(context, runs, "engine", engineTransactions);
    }

    private void Report(BenchContext context, Dictionary<(string, int), List<Run>> runs, string way, int round, int partitions, int transactions, Run run)
    {
        if (!runs.TryGetValue((way, partitions), out var list))
        {
            runs[(way, partitions)] = list = [];
        }

        list.Add(run);
        context.Line(
            $"{Name}-{way}-run",
            ("round", round),
            ("partitions", partitions),
            ("tx_per_s", Math.Round(transactions / run.Seconds)),
            ("applied_tx_per_s", Math.Round(transactions / run.AppliedSeconds)),
            ("startup_s", Math.Round(run.StartupSeconds, 2)),
            ("cpu_us_per_tx", Math.Round(run.CpuSeconds * 1e6 / transactions, 1)),
            ("checkpoints", run.Checkpoints.Count),
            ("checkpoint_median_ms", Math.Round(BenchData.Median(run.Checkpoints))),
            ("checkpoint_max_ms", run.Checkpoints.Count > 0 ? Math.Round(run.Checkpoints.Max()) : 0),
            ("commit_ms_per_partition", Math.Round(BenchData.Median(run.CommitStepsMs), 1)));
    }

    private void Summarize(BenchContext context, Dictionary<(string, int), List<Run>> runs, string way, int transactions)
    {
        double Median(int partitions, Func<Run, double> figure) => BenchData.Median(runs[(way, partitions)].Select(figure));
        var scenario = $"{Name}-{way}";
        var many = Median(Many, r => transactions / r.Seconds);
        var few = Median(Few, r => transactions / r.Seconds);
        var manyApplied = Median(Many, r => transactions / r.AppliedSeconds);
        var fewApplied = Median(Few, r => transactions / r.AppliedSeconds);
        var manyCpu = Median(Many, r => r.CpuSeconds * 1e6 / transactions);
        var fewCpu = Median(Few, r => r.CpuSeconds * 1e6 / transactions);
        var manyCheckpoint = Median(Many, r => BenchData.Median(r.Checkpoints));
        var fewCheckpoint = Median(Few, r => BenchData.Median(r.Checkpoints));
        var manyStep = Median(Many, r => BenchData.Median(r.CommitStepsMs));
        var fewStep = Median(Few, r => BenchData.Median(r.CommitStepsMs));
        context.Figure(scenario, "tx_per_s", many);
        context.Figure(scenario, "baseline_tx_per_s", few);
        context.Figure(scenario, "ratio", many / few);
        context.Figure(scenario, "applied_tx_per_s", manyApplied);
        context.Figure(scenario, "baseline_applied_tx_per_s", fewApplied);
        context.Figure(scenario, "applied_ratio", manyApplied / fewApplied);
        context.Figure(scenario, "cpu_us_per_tx", manyCpu);
        context.Figure(scenario, "baseline_cpu_us_per_tx", fewCpu);
        context.Figure(scenario, "checkpoint_median_ms", manyCheckpoint);
        context.Figure(scenario, "baseline_checkpoint_median_ms", fewCheckpoint);
        context.Figure(scenario, "commit_ms_per_partition", manyStep);
        context.Figure(scenario, "baseline_commit_ms_per_partition", fewStep);
        context.Line(
            scenario,
            ("transactions", transactions),
            ("rounds", runs[(way, Many)].Count),
            ("partitions", Many),
            ("tx_per_s", Math.Round(many)),
            ("baseline_partitions", Few),
            ("baseline_tx_per_s", Math.Round(few)),
            ("ratio", many / few),
            ("applied_tx_per_s", Math.Round(manyApplied)),
            ("baseline_applied_tx_per_s", Math.Round(fewApplied)),
            ("applied_ratio", manyApplied / fewApplied),
            ("cpu_us_per_tx", Math.Round(manyCpu, 1)),
            ("baseline_cpu_us_per_tx", Math.Round(fewCpu, 1)),
            ("checkpoint_median_ms", Math.Round(manyCheckpoint)),
            ("baseline_checkpoint_median_ms", Math.Round(fewCheckpoint)),
            ("commit_ms_per_partition", Math.Round(manyStep, 1)),
            ("baseline_commit_ms_per_partition", Math.Round(fewStep, 1)));
    }

    private static Stream Generate(int seed, int count)
    {
        var options = new GeneratorOptions(Seed: seed, Users: Users, Rate: 500, Service.Cli.ProduceCommand.SeededStart, count);
        var generated = new TransactionGenerator(options).Generate().ToList();

        // Alerts follow each user's records in order, whatever partition they land on.
        var alerts = AlertReference.SlidingVelocityIds(generated.Select((tx, i) => (0, (long)i, tx))).Count;
        return new Stream([.. generated.Select(TransactionGenerator.ToRecord)], options.Rate, alerts);
    }

    /// <summary>A fresh broker whose topics have <paramref name="partitions"/> partitions, filled with <paramref name="stream"/>, drained by a fresh node.</summary>
    private static async Task<Run> KafkaRunAsync(BenchContext context, Stream stream, int partitions, CancellationToken stop)
    {
        var topic = $"parts{partitions}-" + Guid.NewGuid().ToString("N")[..8];
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), partitions);
        await TransactionProducer.RunAsync(broker.BootstrapServers, topic, stream.Records, stream.Rate, maxSpeed: true, progress: null, stop).ConfigureAwait(false);
        var ends = BenchNode.EndOffsets(broker.BootstrapServers, topic, partitions, stream.Records.Count);

        // Each run from a collected heap: the previous run's garbage is not this one's to collect.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var alerts = new AlertWatch(broker.BootstrapServers, "alerts", partitions);
        var start = Stopwatch.StartNew();
        await using var node = await BenchNode.StartAsync(context, broker.BootstrapServers, topic, KafkaScenario.CheckpointInterval, stop).ConfigureAwait(false);
        var metrics = node.Node.Metrics;
        var checkpoints = new Checkpoints();
        var observed = metrics.CheckpointEnded;
        metrics.CheckpointEnded = record =>
        {
            observed?.Invoke(record);
            checkpoints.Ended(record);
        };
        await BenchNode.WaitAsync(() => metrics.RecordsIn > 0, Timeout, () => "the node read no record", stop).ConfigureAwait(false);
        var startup = start.Elapsed.TotalSeconds;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var total = stream.Records.Count;
        await BenchNode.WaitAsync(() => metrics.Applied >= total, Timeout, () => $"the node applied {metrics.Applied} of {total} records", stop).ConfigureAwait(false);
        var applied = clock.Elapsed.TotalSeconds;
        await BenchNode.WaitAsync(
            () =>
            {
                alerts.ThrowIfFailed();
                return alerts.Distinct >= stream.Alerts && node.Committed(ends);
            },
            Timeout,
            () => $"{alerts.Distinct} of {stream.Alerts} alerts reached the alerts topic, checkpoints committed {string.Join(", ", metrics.Partitions.Snapshot().Select(p => $"[{p.Partition}] {p.CommittedOffset}"))} of {string.Join(", ", ends.Select(e => $"[{e.Key}] {e.Value}"))}",
            stop).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        return new Run(seconds, applied, startup, cpuSeconds, checkpoints.Durations(), checkpoints.PerPartition());
    }

    /// <summary>
    /// The node's pipeline (<see cref="JobPipeline"/>) on a fresh one-node cluster over an
    /// in-process source of <paramref name="stream"/>'s records, each on the partition of its
    /// user's stable hash, timed from the first record to the stream's end (its final checkpoint
    /// committed).
    /// </summary>
    private async Task<Run> EngineRunAsync(BenchContext context, Stream stream, int partitions, CancellationToken stop)
    {
        var topic = $"engine{partitions}-" + Guid.NewGuid().ToString("N")[..8];
        var offsets = new long[partitions];
        var records = stream.Records.Select(r =>
        {
            var partition = (int)(UserMessageRouter.StableHash(r.Key!) % partitions);
            return new KafkaRecord(topic, partition, offsets[partition]++, System.Text.Encoding.UTF8.GetBytes(r.Key!), r.Value, DateTimeOffset.UnixEpoch);
        }).ToList();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        await using var database = await ScratchDatabase.CreateAsync(context, topic, stop).ConfigureAwait(false);
        var system = BenchData.StartClusterSystem(new BenchContext(context.Store, database.Connection, TextWriter.Null), "bench-partitions");
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), 1);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        try
        {
            var start = Stopwatch.StartNew();
            await BenchData.JoinSelfAsync(system, stop).ConfigureAwait(false);
            var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());
            var region = await UserRegion.StartAsync(system, "user", _settings, journals, passivateAfter: TimeSpan.Zero).ConfigureAwait(false);
            await UserRegion.WakeHostsAsync(region, Enumerable.Range(0, partitions), stop).ConfigureAwait(false);
            var alerts = OutboxTable.Open(context.Store, database.Connection, AlertCodec.For("alerts"));
            await alerts.InitializeAsync(stop).ConfigureAwait(false);
            var windowStore = OutboxTable.Open(context.Store, database.Connection, WindowResultCodec.For("user-window-counts", "user-sessions"));
            await windowStore.InitializeAsync(stop).ConfigureAwait(false);
            var metrics = new PipelineMetrics();
            var checkpoints = new Checkpoints();
            metrics.CheckpointEnded = checkpoints.Ended;
            var pipeline = new JobPipeline(
                region,
                journals,
                new TableOnly<Alert>(alerts),
                new DeadLetterPublisher(producer, "transactions.dlq"),
                CheckpointSettings.Default with { Interval = CheckpointEvery },
                new CheckpointHistory(100),
                metrics,
                system.Log)
            {
                Time = new PipelineTime(TimeSettings.Default, new TableOnly<WindowResult>(windowStore)),
            }.Build();
            var assigned = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, new Partition(p))).ToList();
            var source = Source.Single<SourceEvent>(new PartitionsAssigned(assigned)).Concat(Source.From<SourceEvent>(records));
            var startup = start.Elapsed.TotalSeconds;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var applied = (double?)null;
            var run = pipeline.Run(source, new NoConsumerGroup(), topic, system.Materializer(), generation: 1);
            await BenchNode.WaitAsync(
                () =>
                {
                    applied ??= metrics.Applied >= records.Count ? clock.Elapsed.TotalSeconds : null;
                    return run.Completion.IsCompleted;
                },
                Timeout,
                () => $"the pipeline applied {metrics.Applied} of {records.Count} records",
                stop).ConfigureAwait(false);
            await run.Completion.ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            return new Run(seconds, applied ?? seconds, startup, cpuSeconds, checkpoints.Durations(), checkpoints.PerPartition());
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    private sealed record Stream(List<(string? Key, byte[] Value)> Records, double Rate, int Alerts);

    /// <param name="Seconds">From the first record to the last one committed (kafka: and every alert on its topic).</param>
    /// <param name="AppliedSeconds">From the first record to the last one applied by its user.</param>
    /// <param name="StartupSeconds">kafka: from the node's start to its first record read; engine: the cluster, region and hosts' start.</param>
    /// <param name="CpuSeconds">The process's CPU over <paramref name="Seconds"/>: the node's, and on kafka the dev broker's and the alert watch's (the topic is filled before).</param>
    /// <param name="Checkpoints">Each completed checkpoint's duration in milliseconds, from its barrier to its last partition's commit.</param>
    /// <param name="CommitStepsMs">Per checkpoint, the milliseconds from one partition's commit to the next (<see cref="Checkpoints.PerPartition"/>).</param>
    private sealed record Run(double Seconds, double AppliedSeconds, double StartupSeconds, double CpuSeconds, List<double> Checkpoints, List<double> CommitStepsMs);

    /// <summary>
    /// The checkpoints a run completed. A checkpoint commits its partitions one after another
    /// (<c>CheckpointCoordinator.CommitAsync</c>) and lasts until its last; the time between its
    /// first partition's commit and its last, over the partitions after the first, is what each
    /// partition adds to it (its replies verified, the outputs flushed, its ownership checked, its
    /// journal written, its history row inserted).
    /// </summary>
    private sealed class Checkpoints
    {
        private readonly Dictionary<long, (double First, double Last, int Partitions)> _byEpoch = [];

        public void Ended(CheckpointRecord record)
        {
            if (record.Status != CheckpointStatus.Completed)
            {
                return;
            }

            var ms = record.Duration.TotalMilliseconds;
            lock (_byEpoch)
            {
                _byEpoch[record.Epoch] = _byEpoch.TryGetValue(record.Epoch, out var seen)
                    ? (Math.Min(seen.First, ms), Math.Max(seen.Last, ms), seen.Partitions + 1)
                    : (ms, ms, 1);
            }
        }

        public List<double> Durations()
        {
            lock (_byEpoch)
            {
                return [.. _byEpoch.Values.Select(c => c.Last)];
            }
        }

        /// <summary>Per checkpoint of more than one partition: milliseconds from one partition's commit to the next.</summary>
        public List<double> PerPartition()
        {
            lock (_byEpoch)
            {
                return [.. _byEpoch.Values.Where(c => c.Partitions > 1).Select(c => (c.Last - c.First) / (c.Partitions - 1))];
            }
        }
    }

    /// <summary>Outputs go into their table as on a node; publishing them is the outbox's work, measured by the kafka runs.</summary>
    private sealed class TableOnly<T>(IOutboxTable<T> table) : IOutputSink<T>
    {
        public Task PublishAsync(T output, CancellationToken cancellationToken) => table.AddAsync(output, cancellationToken);

        public Task PublishAsync(IReadOnlyList<T> outputs, CancellationToken cancellationToken) => table.AddRangeAsync(outputs, cancellationToken);
    }
}
