using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Faults;

/// <summary>
/// Kafka misbehaving under a running <c>fraud run</c> process, through the dev broker's fault
/// controls, while a stream flows: a leader broker down and back, partition leaders moved, and
/// errors injected into the consumer's fetches, the node's produce requests (alerts outbox, DLQ,
/// window results) and the group's commits and heartbeats. Each fault is held until the node has
/// demonstrably met it (the errors pushed are used up, or its group offsets moved on meanwhile).
/// Then the alerts topic holds exactly the reference alerts, the DLQ every bad record once, and
/// the node never went down.
/// </summary>
public sealed class KafkaFaultTests
{
    private const string Group = "kafka-fault-test";
    private const int Partitions = 3;
    private const int BadEvery = 97;
    private const int Coordinator = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly TopicNames Topics = new("transactions", "alerts", "transactions.dlq");

    [Fact]
    public async Task Broker_down_leader_moves_and_request_errors_while_records_flow_lose_no_alert_and_double_none()
    {
        using var broker = BrokerCommand.Start(Topics, Partitions);
        var bootstrap = broker.BootstrapServers;

        // A known layout: transactions [p] led by broker p+1, what the node writes by broker 2, the
        // group coordinated by broker 3. The dev broker does not deduplicate an idempotent
        // producer's retries (only a transactional one's), so a broker that drops a connection
        // with produce requests in flight can double records that a real Kafka would not: the
        // faults below never cut the node's producer off mid-request.
        for (var p = 0; p < Partitions; p++)
        {
            broker.SetPartitionLeader(Topics.Transactions, p, p + 1);
            SetOutputLeaders(broker, p, 2);
        }

        broker.SetGroupCoordinator(Group, Coordinator);
        var database = await TestPostgres.CreateDatabaseAsync("kafka_faults");

        // The dev broker gives a rejoining group its partitions only when the old membership has
        // expired: a short session keeps the rebalance of (e) short.
        var config = Path.GetTempFileName();
        await File.WriteAllTextAsync(config, "fraud.kafka.consumer { \"session.timeout.ms\" = 6000 }\n");
        using var stream = new PacedStream(bootstrap);
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = database },
            "run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms", "--config", config);
        await Eventually.TrueAsync(() => Committed(bootstrap).Values.Sum() >= 500 || service.HasExited, Timeout, () => service.StandardErrorTail());

        // (a) The leader of transactions [0] goes down: the other partitions go on; then it comes back and [0] catches up.
        var before = Committed(bootstrap);
        var refused = Lines(service, "/1: Connect to ipv4#");
        broker.SetBrokerDown(1);
        await Eventually.TrueAsync(() => Lines(service, "/1: Connect to ipv4#") > refused || service.HasExited, Timeout, () => service.StandardErrorTail());
        await ProgressAsync(bootstrap, service, p => p != 0);
        broker.SetBrokerUp(1);
        await ProgressAsync(bootstrap, service, p => p == 0, since: before);

        // (b) Leaders move: every transactions partition to broker 1, every partition the node writes to broker 3.
        before = Committed(bootstrap);
        for (var p = 0; p < Partitions; p++)
        {
            broker.SetPartitionLeader(Topics.Transactions, p, 1);
            SetOutputLeaders(broker, p, 3);
        }

        await ProgressAsync(bootstrap, service, _ => true, since: before);

        // (c) Fetch errors on broker 1, which only the node's consumer fetches from.
        broker.PushBrokerRequestErrors(1, KafkaApiKey.Fetch, TimeSpan.Zero, ErrorCode.NotLeaderForPartition, ErrorCode.Local_Transport, ErrorCode.UnknownLeaderEpoch, ErrorCode.RequestTimedOut);
        await UsedUpAsync(broker, service, 1, KafkaApiKey.Fetch);
        await ProgressAsync(bootstrap, service, _ => true);

        // (d) Produce errors on broker 3, which only the node's producer (alerts, DLQ, window results) writes to.
        broker.PushBrokerRequestErrors(3, KafkaApiKey.Produce, TimeSpan.Zero, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas, ErrorCode.KafkaStorageError);
        await UsedUpAsync(broker, service, 3, KafkaApiKey.Produce);
        await ProgressAsync(bootstrap, service, _ => true);

        // (e) The coordinator fails commits, and a heartbeat tells the node to rejoin its group (a rebalance).
        broker.PushBrokerRequestErrors(Coordinator, KafkaApiKey.OffsetCommit, TimeSpan.Zero, ErrorCode.RequestTimedOut, ErrorCode.GroupLoadInProgress, ErrorCode.NotCoordinatorForGroup);
        broker.PushBrokerRequestErrors(Coordinator, KafkaApiKey.Heartbeat, TimeSpan.Zero, ErrorCode.RebalanceInProgress);
        await UsedUpAsync(broker, service, Coordinator, KafkaApiKey.OffsetCommit);
        await UsedUpAsync(broker, service, Coordinator, KafkaApiKey.Heartbeat);
        await Eventually.TrueAsync(() => Lines(service, "Kafka source: assigned") >= 2 || service.HasExited, Timeout, () => service.StandardErrorTail());
        await ProgressAsync(bootstrap, service, _ => true);

        await stream.StopAsync();
        var transactions = KafkaTestTopics.ReadAll(bootstrap, Topics.Transactions, Timeout);
        var ends = transactions.GroupBy(r => r.Partition.Value).ToDictionary(g => g.Key, g => g.Max(r => r.Offset.Value) + 1);
        await Eventually.TrueAsync(() => ends.All(e => Committed(bootstrap)[e.Key] == e.Value), Timeout, () => service.StandardErrorTail());

        // Stopped cleanly: the outbox is drained before the node leaves.
        Assert.False(service.HasExited, service.StandardErrorTail());
        service.Interrupt();
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));

        var parser = new TransactionParser();
        var parsed = transactions.Select(r => (r.Partition.Value, r.Offset.Value, Outcome: parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value))).ToList();
        var expected = AlertReference.SlidingVelocityIds(parsed.Where(r => r.Outcome.Transaction is not null).Select(r => (r.Item1, r.Item2, r.Outcome.Transaction!)));
        var onTopic = KafkaTestTopics.ReadAll(bootstrap, Topics.Alerts, Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        Assert.True(expected.Count > 10, $"only {expected.Count} reference alerts");
        Assert.Equal(onTopic.Count, onTopic.Distinct().Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));

        var bad = parsed.Where(r => r.Outcome.Transaction is null).Select(r => $"{r.Item1}:{r.Item2}").ToList();
        var dead = KafkaTestTopics.ReadAll(bootstrap, Topics.DeadLetters, Timeout)
            .Select(r => $"{r.Header(DeadLetterPublisher.PartitionHeader)}:{r.Header(DeadLetterPublisher.OffsetHeader)}")
            .ToList();
        Assert.NotEmpty(bad);

        // The DLQ is at least once (no outbox): records read again after a rewind are sent again.
        Assert.Equal(bad.Order(StringComparer.Ordinal), dead.Distinct().Order(StringComparer.Ordinal));
    }

    private static void SetOutputLeaders(DevBroker broker, int partition, int brokerId)
    {
        foreach (var topic in new[] { Topics.Alerts, Topics.DeadLetters, Topics.WindowCounts, Topics.Sessions })
        {
            broker.SetPartitionLeader(topic, partition, brokerId);
        }
    }

    /// <summary>Waits until the node's group offsets moved on by at least 200 records on the partitions chosen.</summary>
    private static async Task ProgressAsync(string bootstrap, FraudProcess service, Func<int, bool> partitions, Dictionary<int, long>? since = null)
    {

        var from = since ?? Committed(bootstrap);
        await Eventually.TrueAsync(
            () => service.HasExited || Committed(bootstrap).Where(c => partitions(c.Key)).Sum(c => c.Value - from[c.Key]) >= 200,
            Timeout,
            () => $"committed {string.Join(", ", Committed(bootstrap))} since {string.Join(", ", from)}\n{service.StandardErrorTail()}");
        Assert.False(service.HasExited, service.StandardErrorTail());
    }

    private static async Task UsedUpAsync(DevBroker broker, FraudProcess service, int brokerId, KafkaApiKey api)
    {
        await Eventually.TrueAsync(
            () => service.HasExited || broker.PendingBrokerRequestErrors(brokerId, api) == 0,
            Timeout,
            () => $"{broker.PendingBrokerRequestErrors(brokerId, api)} {api} error(s) left on broker {brokerId}\n{service.StandardErrorTail()}");
        Assert.False(service.HasExited, service.StandardErrorTail());
    }

    /// <summary>How many lines of the node's log contain <paramref name="text"/>.</summary>
    private static int Lines(FraudProcess service, string text) =>
        service.StandardError.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    private static Dictionary<int, long> Committed(string bootstrap) =>
        KafkaTestTopics.CommittedOffsets(bootstrap, Group, Topics.Transactions, Partitions, TimeSpan.FromSeconds(10))
            .ToDictionary(c => c.Key, c => Math.Max(0, c.Value));

    /// <summary>
    /// The seeded generator's stream, keyed by user, about 400 records/s until stopped, with a
    /// record that is not JSON every <see cref="BadEvery"/>. Its idempotent producer rides out the
    /// faults (a record waits in it while its leader is down).
    /// </summary>
    private sealed class PacedStream : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly IProducer<byte[]?, byte[]> _producer;
        private readonly Task _run;
        private Error? _failure;

        public PacedStream(string bootstrap)
        {
            _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
            {
                BootstrapServers = bootstrap,
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 5,
            }).Build();
            _run = Task.Run(RunAsync);
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _run;
            _producer.Flush(Timeout);
            Assert.Null(_failure);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _producer.Dispose();
            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            var sent = 0;
            foreach (var tx in new TransactionGenerator(new GeneratorOptions(11, 2000, 40, ProduceCommand.SeededStart, null)).Generate())
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                var (key, value) = ++sent % BadEvery == 0 ? ("u-bad", Encoding.UTF8.GetBytes("{\"user_id\": \"u-bad\", \"amount\":")) : TransactionGenerator.ToRecord(tx);
                _producer.Produce(Topics.Transactions, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(key!), Value = value }, r =>
                {
                    if (r.Error.IsError)
                    {
                        _failure ??= r.Error;
                    }
                });

                // Pacing only: the stream keeps flowing while the faults come and go.
                if (sent % 40 == 0)
                {
                    await Task.Delay(100);
                }
            }
        }
    }
}
