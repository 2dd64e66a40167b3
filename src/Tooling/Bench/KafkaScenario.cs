using Confluent.Kafka;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;
using FraudActors.Tooling.Drill;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Kafka end to end: the lab's generated transactions fill a topic of the dev broker, then a
/// service node (<see cref="BenchNode"/>: the composition root of <c>fraud run</c>) reads it; the
/// clock runs from the node's first record read until every record's offset is in a committed
/// checkpoint and every alert is on the alerts topic. Baseline: a bare Confluent.Kafka consumer
/// draining the same topic on the same broker, timed from its first record to its last.
/// <c>second_half_tx_per_s</c> is the rate over the second half of the records, once the node
/// is past its start (JIT, its first users, its first checkpoints).
/// </summary>
public sealed class KafkaScenario(int transactions) : IBenchScenario
{
    public const int Partitions = 3;

    /// <summary>Short, so the wait for the last checkpoint stays a small part of the measurement.</summary>
    public const string CheckpointInterval = "1s";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public string Name => "kafka";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        var topic = "kafka-" + Guid.NewGuid().ToString("N")[..8];
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), Partitions);
        var options = new GeneratorOptions(Seed: 11, Users: 20_000, Rate: 500, Service.Cli.ProduceCommand.SeededStart, transactions);
        var generated = new TransactionGenerator(options).Generate().ToList();

        // Alerts follow each user's records in order, whatever partition they land on.
        var expectedAlerts = AlertReference.SlidingVelocityIds(generated.Select((tx, i) => (0, (long)i, tx))).Count;
        await TransactionProducer.RunAsync(
            broker.BootstrapServers, topic, generated.Select(TransactionGenerator.ToRecord), options.Rate, maxSpeed: true, progress: null, stop).ConfigureAwait(false);
        var ends = BenchNode.EndOffsets(broker.BootstrapServers, topic, Partitions, transactions);
        context.Say(string.Create(CultureInfo.InvariantCulture, $"kafka: {transactions} generated transactions on {Partitions} partitions of the dev broker, {expectedAlerts} alerts expected; node on {context.Store}, checkpoints every {CheckpointInterval}"));

        var baselineSeconds = await BareConsumerAsync(broker.BootstrapServers, topic, stop).ConfigureAwait(false);
        var run = await NodeAsync(context, broker.BootstrapServers, topic, ends, expectedAlerts, stop).ConfigureAwait(false);

        var rate = transactions / run.Seconds;
        var baselineRate = transactions / baselineSeconds;
        context.Figure(Name, "tx_per_s", rate);
        context.Figure(Name, "baseline_tx_per_s", baselineRate);
        context.Figure(Name, "ratio", rate / baselineRate);
        context.Figure(Name, "applied_tx_per_s", transactions / run.AppliedSeconds);
        context.Figure(Name, "second_half_tx_per_s", (transactions - (transactions / 2)) / run.SecondHalfSeconds);
        context.Figure(Name, "alerts", run.Alerts);
        context.Figure(Name, "startup_s", run.StartupSeconds);
        context.Line(
            Name,
            ("transactions", transactions),
            ("partitions", Partitions),
            ("tx_per_s", Math.Round(rate)),
            ("baseline_tx_per_s", Math.Round(baselineRate)),
            ("ratio", rate / baselineRate),
            ("applied_tx_per_s", Math.Round(transactions / run.AppliedSeconds)),
            ("second_half_tx_per_s", Math.Round((transactions - (transactions / 2)) / run.SecondHalfSeconds)),
            ("alerts", run.Alerts),
            ("startup_s", run.StartupSeconds));
        if (run.Copies > 0)
        {
            context.Say($"kafka: {run.Copies} alert(s) reached the alerts topic twice");
        }
    }

    /// <summary>A consumer group of one reading every record and doing nothing with it.</summary>
    private async Task<double> BareConsumerAsync(string bootstrap, string topic, CancellationToken stop)
    {
        return await Task.Run(
            () =>
            {
                using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
                {
                    BootstrapServers = bootstrap,
                    GroupId = topic + "-bare",
                    AutoOffsetReset = AutoOffsetReset.Earliest,
                    EnableAutoCommit = false,
                }).Build();
                consumer.Subscribe(topic);
                var clock = new Stopwatch();
                var read = 0L;
                var deadline = Stopwatch.StartNew();
                while (read < transactions)
                {
                    stop.ThrowIfCancellationRequested();
                    if (deadline.Elapsed > Timeout)
                    {
                        throw new TimeoutException($"kafka bench: the bare consumer read {read} of {transactions} records within {Timeout}");
                    }

                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not null)
                    {
                        clock.Start();
                        read++;
                    }
                }

                var seconds = clock.Elapsed.TotalSeconds;
                consumer.Close();
                return seconds;
            },
            stop).ConfigureAwait(false);
    }

    private async Task<Run> NodeAsync(BenchContext context, string bootstrap, string topic, IReadOnlyDictionary<int, long> ends, int expectedAlerts, CancellationToken stop)
    {
        using var alerts = new AlertWatch(bootstrap, "alerts", Partitions);
        var start = Stopwatch.StartNew();
        await using var node = await BenchNode.StartAsync(context, bootstrap, topic, CheckpointInterval, stop).ConfigureAwait(false);
        var metrics = node.Node.Metrics;
        await BenchNode.WaitAsync(() => metrics.RecordsIn > 0, Timeout, () => "the node read no record", stop).ConfigureAwait(false);
        var startup = start.Elapsed.TotalSeconds;
        var clock = Stopwatch.StartNew();
        var half = (double?)null;
        await BenchNode.WaitAsync(
            () =>
            {
                half ??= metrics.Applied >= transactions / 2 ? clock.Elapsed.TotalSeconds : null;
                return metrics.Applied >= transactions;
            },
            Timeout,
            () => $"the node applied {metrics.Applied} of {transactions} records",
            stop).ConfigureAwait(false);
        var applied = clock.Elapsed.TotalSeconds;
        await BenchNode.WaitAsync(
            () =>
            {
                alerts.ThrowIfFailed();
                return alerts.Distinct >= expectedAlerts && node.Committed(ends);
            },
            Timeout,
            () => $"{alerts.Distinct} of {expectedAlerts} alerts reached the alerts topic, checkpoints committed {string.Join(", ", node.Node.Metrics.Partitions.Snapshot().Select(p => $"[{p.Partition}] {p.CommittedOffset}"))} of {string.Join(", ", ends.Select(e => $"[{e.Key}] {e.Value}"))}",
            stop).ConfigureAwait(false);
        return new Run(clock.Elapsed.TotalSeconds, applied, applied - (half ?? 0), startup, alerts.Distinct, alerts.Records - alerts.Distinct);
    }

    /// <param name="SecondHalfSeconds">From the moment half the records were applied to the last: a node past its start (JIT, first users, first checkpoints).</param>
    private sealed record Run(double Seconds, double AppliedSeconds, double SecondHalfSeconds, double StartupSeconds, long Alerts, long Copies);
}
