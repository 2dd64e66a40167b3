using System.Text;
using Confluent.Kafka;
using FraudActors.Messages.Alerts;
using FraudActors.Service.Configuration;
using HdrHistogram;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Alert latency: from the moment a record is handed to the producer to the moment its alert is
/// read from the alerts topic, at 50% and 80% of the node's maximum sustained rate. The maximum
/// is measured first, in the same run, by the node draining a pre-filled topic (which also warms
/// it up); then a paced producer sends at each load while the alerts topic is read. One record
/// in <see cref="HotEvery"/> belongs to a few hot users who alert on every record after their
/// fifth (sliding-velocity), so a known tenth of the records alert, each naming its record in
/// <c>tx_id</c>. Baseline: the same records' latency through Kafka alone, produce to a bare
/// consumer of the transactions topic, measured in the same phases: one hop, where an alert
/// takes two (transactions in, alerts out) and the service in between.
/// </summary>
public sealed class LatencyScenario(int warmup, TimeSpan phase) : IBenchScenario
{
    private const int Partitions = KafkaScenario.Partitions;
    private const int HotEvery = 10;
    private const int HotUsers = 100;
    private const int ColdUsers = 30_000;

    /// <summary>
    /// Event time moves about as fast as the records flow (1,000 a second of event time), so
    /// windows close as often as in production; a hot user's records are 1 s apart (the sixth
    /// onwards alerts), a cold user's 30 s (never more than three in a minute).
    /// </summary>
    private static readonly TimeSpan EventStep = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private long[] _sent = [];

    public string Name => "latency";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        var topic = "latency-" + Guid.NewGuid().ToString("N")[..8];
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), Partitions);
        var bootstrap = broker.BootstrapServers;
        context.Say(string.Create(CultureInfo.InvariantCulture, $"latency: 1 in {HotEvery} records alerts; the node's maximum rate from {warmup} records pre-filled, then {phase.TotalSeconds:0} s at 50% and at 80% of it; node on {context.Store}"));

        // The maximum sustained rate: the node drains a pre-filled topic, from its first record
        // read to its last alert on the topic.
        await Service.Producing.TransactionProducer.RunAsync(bootstrap, topic, Enumerable.Range(0, warmup).Select(i => ToRecord(Record(i))), 1, maxSpeed: true, progress: null, stop).ConfigureAwait(false);
        BenchNode.EndOffsets(bootstrap, topic, Partitions, warmup);
        _sent = new long[warmup];
        Phase? current = null;
        using var alerts = new AlertWatch(bootstrap, "alerts", Partitions, (alert, arrived) => Volatile.Read(ref current)?.Arrived(alert.TxId, arrived, _sent));
        await using var node = await BenchNode.StartAsync(context, bootstrap, topic, "10s", stop).ConfigureAwait(false);
        var metrics = node.Node.Metrics;
        await BenchNode.WaitAsync(() => metrics.RecordsIn > 0, Timeout, () => "the node read no record", stop).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var warmupAlerts = Enumerable.Range(0, warmup).Count(i => Alerts(i));
        await BenchNode.WaitAsync(
            () =>
            {
                alerts.ThrowIfFailed();
                return metrics.Applied >= warmup && alerts.Distinct >= warmupAlerts;
            },
            Timeout,
            () => $"the node applied {metrics.Applied} of {warmup} records and published {alerts.Distinct} of {warmupAlerts} alerts",
            stop).ConfigureAwait(false);
        var maxRate = warmup / clock.Elapsed.TotalSeconds;
        context.Figure(Name, "max_rate_per_s", maxRate);

        var next = (long)warmup;
        foreach (var (load, suffix) in new[] { (0.5, string.Empty), (0.8, "_at_80") })
        {
            var rate = maxRate * load;
            var count = (long)Math.Max(HotEvery * 10, rate * phase.TotalSeconds);
            var measured = new Phase(next, next + count);
            _sent = GrowTo(_sent, next + count);
            Volatile.Write(ref current, measured);
            var achieved = await PacedAsync(bootstrap, topic, measured, rate, stop).ConfigureAwait(false);
            await BenchNode.WaitAsync(
                () =>
                {
                    alerts.ThrowIfFailed();
                    return measured.Service.TotalCount >= measured.ExpectedAlerts && measured.Kafka.TotalCount >= measured.ExpectedAlerts;
                },
                Timeout,
                () => $"{measured.Service.TotalCount} of {measured.ExpectedAlerts} alerts of the {load:P0} load reached the alerts topic ({measured.Kafka.TotalCount} of their records the bare consumer)",
                stop).ConfigureAwait(false);
            next += count;
            Report(context, load, suffix, rate, achieved, maxRate, measured);
        }

        Volatile.Write(ref current, null);
    }

    private void Report(BenchContext context, double load, string suffix, double rate, double achieved, double maxRate, Phase measured)
    {
        double Ms(LongHistogram h, double percentile) => h.GetValueAtPercentile(percentile) / 1000.0;
        context.Figure(Name, "rate_per_s" + suffix, achieved);
        context.Figure(Name, "alerts" + suffix, measured.Service.TotalCount);
        context.Figure(Name, "p50_ms" + suffix, Ms(measured.Service, 50));
        context.Figure(Name, "p99_ms" + suffix, Ms(measured.Service, 99));
        context.Figure(Name, "p999_ms" + suffix, Ms(measured.Service, 99.9));
        context.Figure(Name, "max_ms" + suffix, measured.Service.GetMaxValue() / 1000.0);
        context.Figure(Name, "kafka_p50_ms" + suffix, Ms(measured.Kafka, 50));
        context.Figure(Name, "kafka_p99_ms" + suffix, Ms(measured.Kafka, 99));
        context.Figure(Name, "kafka_p999_ms" + suffix, Ms(measured.Kafka, 99.9));
        context.Line(
            Name,
            ("load", string.Create(CultureInfo.InvariantCulture, $"{load * 100:0}%")),
            ("rate_per_s", Math.Round(achieved)),
            ("target_per_s", Math.Round(rate)),
            ("max_rate_per_s", Math.Round(maxRate)),
            ("alerts", measured.Service.TotalCount),
            ("p50_ms", Ms(measured.Service, 50)),
            ("p99_ms", Ms(measured.Service, 99)),
            ("p999_ms", Ms(measured.Service, 99.9)),
            ("max_ms", measured.Service.GetMaxValue() / 1000.0),
            ("kafka_p50_ms", Ms(measured.Kafka, 50)),
            ("kafka_p99_ms", Ms(measured.Kafka, 99)),
            ("kafka_p999_ms", Ms(measured.Kafka, 99.9)));
    }

    /// <summary>
    /// Sends the phase's records at <paramref name="rate"/>, paced against the phase's start so
    /// delays never accumulate, stamping each one's send time; a bare consumer of the topic
    /// meanwhile times the alerting records' trip through Kafka alone. Returns the rate achieved.
    /// </summary>
    private async Task<double> PacedAsync(string bootstrap, string topic, Phase measured, double rate, CancellationToken stop)
    {
        // From each partition's end as it is now: the phase's records are the ones after it.
        using var bare = AlertWatch.MeasuringConsumer<Ignore>(bootstrap, "bench-bare");
        bare.Assign(Enumerable.Range(0, Partitions).Select(p =>
        {
            var partition = new TopicPartition(topic, new Partition(p));
            return new TopicPartitionOffset(partition, bare.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High);
        }).ToList());
        var reading = true;
        var reader = Task.Run(() =>
        {
            while (Volatile.Read(ref reading))
            {
                if (bare.Consume(TimeSpan.FromMilliseconds(100)) is { } record)
                {
                    measured.Read(record.Message.Value, Stopwatch.GetTimestamp(), _sent);
                }
            }
        });
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 1,
        }).Build();
        Error? failure = null;
        var clock = Stopwatch.StartNew();
        try
        {
            for (var i = measured.From; i < measured.To; i++)
            {
                var due = TimeSpan.FromSeconds((i - measured.From) / rate) - clock.Elapsed;
                if (due > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(due, stop).ConfigureAwait(false);
                }

                var (key, value) = ToRecord(Record(i));
                _sent[i] = Stopwatch.GetTimestamp();
                producer.Produce(topic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(key!), Value = value }, r =>
                {
                    if (r.Error.IsError)
                    {
                        Interlocked.CompareExchange(ref failure, r.Error, null);
                    }
                });
                if (failure is not null)
                {
                    throw new KafkaException(failure);
                }
            }

            var achieved = (measured.To - measured.From) / clock.Elapsed.TotalSeconds;
            if (producer.Flush(TimeSpan.FromSeconds(30)) > 0 || failure is not null)
            {
                throw new KafkaException(failure ?? new Error(ErrorCode.Local_TimedOut, "latency bench: records not delivered within 30 s"));
            }

            await BenchNode.WaitAsync(() => measured.Kafka.TotalCount >= measured.ExpectedAlerts, Timeout, () => $"the bare consumer read {measured.Kafka.TotalCount} of {measured.ExpectedAlerts} alerting records", stop).ConfigureAwait(false);
            return achieved;
        }
        finally
        {
            Volatile.Write(ref reading, false);
            await reader.ConfigureAwait(false);
            bare.Close();
        }
    }

    /// <summary>
    /// Record <paramref name="i"/> of the stream: one in <see cref="HotEvery"/> of a hot user,
    /// the others of cold users.
    /// </summary>
    private static Transaction Record(long i)
    {
        var user = i % HotEvery == 0
            ? "hot-" + ((i / HotEvery) % HotUsers).ToString(CultureInfo.InvariantCulture)
            : "cold-" + (i % ColdUsers).ToString(CultureInfo.InvariantCulture);
        return new Transaction(user, 42.5m, "online", BenchData.T0 + (EventStep * i), "lat-" + i.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Whether record <paramref name="i"/> alerts: a hot user's sixth record or later.</summary>
    private static bool Alerts(long i) => i % HotEvery == 0 && i / HotEvery / HotUsers >= 5;

    private static (string? Key, byte[] Value) ToRecord(Transaction tx) => (tx.UserId, TransactionJson.Serialize(tx));

    private static long[] GrowTo(long[] sent, long length)
    {
        var grown = new long[length];
        Array.Copy(sent, grown, sent.Length);
        return grown;
    }

    /// <summary>
    /// The records of one load, <see cref="From"/> to <see cref="To"/> (exclusive), and the
    /// latencies of their alerts (microseconds).
    /// </summary>
    private sealed class Phase(long from, long to)
    {
        public long From { get; } = from;

        public long To { get; } = to;

        public long ExpectedAlerts { get; } = Enumerable.Range(0, (int)(to - from)).Count(k => LatencyScenario.Alerts(from + k));

        public LongHistogram Service { get; } = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);

        public LongHistogram Kafka { get; } = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);

        private readonly HashSet<long> _alerted = [];

        /// <summary>An alert read from the alerts topic (its first copy counts).</summary>
        public void Arrived(string? txId, long arrived, long[] sent)
        {
            if (Index(txId) is { } i && _alerted.Add(i))
            {
                Service.RecordValue(Micros(sent[i], arrived));
            }
        }

        /// <summary>A record read by the bare consumer: the alerting ones are timed.</summary>
        public void Read(byte[] value, long arrived, long[] sent)
        {
            // The id's digits, found without parsing the whole record: the baseline stays bare.
            var marker = "\"tx_id\":\"lat-"u8;
            var at = value.AsSpan().IndexOf(marker);
            var digits = at < 0 ? [] : value.AsSpan(at + marker.Length);
            digits = digits[..Math.Max(0, digits.IndexOf((byte)'"'))];
            if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                && i >= From && i < To && LatencyScenario.Alerts(i))
            {
                Kafka.RecordValue(Micros(sent[i], arrived));
            }
        }

        private long? Index(string? txId) =>
            txId is not null && txId.StartsWith("lat-", StringComparison.Ordinal)
                && long.TryParse(txId.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= From && i < To
                ? i
                : null;

        private static long Micros(long from, long to) => Math.Max(1, (to - from) * 1_000_000 / Stopwatch.Frequency);
    }
}
