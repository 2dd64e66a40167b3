using System.Collections.Concurrent;
using System.Text;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Ingest;

/// <summary>A fault in the stream restarts it from the committed offsets, and no alert is lost.</summary>
public sealed class TransactionIngestTests : TestKit, IDisposable
{
    private const string Transactions = "transactions";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Transactions, 1), ("transactions.dlq", 1));
    private readonly IProducer<byte[]?, byte[]> _producer;

    public TransactionIngestTests()
        : base(OneNodeCluster.Config)
    {
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers }).Build();
    }

    [Fact]
    public async Task An_alert_that_failed_to_publish_is_published_after_the_restart_with_the_same_id()
    {
        // Seven transactions of u1 within a minute: the sixth and seventh alert.
        await KafkaTestTopics.ProduceAsync(_broker.BootstrapServers, Transactions, Enumerable.Range(0, 7).Select(i =>
            ((string?)"u1", Encoding.UTF8.GetString(TransactionJson.Serialize(
                new Transaction("u1", 1m + i, "shop", new DateTimeOffset(2026, 3, 17, 9, 0, i, TimeSpan.Zero)))))));

        var sink = new FailingOnceSink();
        var (ingest, _) = await TestIngest.StartAsync(
            Sys, _broker.BootstrapServers, Transactions, "restart", sink, _producer, CheckpointSettings.Default, new CheckpointHistory(10), new PipelineMetrics());
        string[] expected = ["sliding-velocity:0:5", "sliding-velocity:0:6"];
        await AwaitConditionAsync(() => Task.FromResult(expected.All(id => sink.Published.Any(a => a.AlertId == id))), Timeout);
        await ingest.StopAsync();

        // The first publish of the sixth record's alert failed; the stream restarted from the
        // last checkpoint (none yet: the start), the user reloaded its checkpointed state (none)
        // and applied the records again, raising the same alerts with the same ids and counts.
        // (The seventh's may have gone out twice: at least once, same id, until the outbox.)
        Assert.Equal(1, sink.Failures);
        Assert.Equal(expected, sink.Published.Select(a => a.AlertId).Distinct().Order(StringComparer.Ordinal));
        Assert.All(sink.Published, a => Assert.Equal(a.AlertId == expected[0] ? 6 : 7, a.Count));
    }

    public new void Dispose()
    {
        base.Dispose();
        _producer.Dispose();
        _broker.Dispose();
    }

    private sealed class FailingOnceSink : IOutputSink<Alert>
    {
        private int _failures;

        public ConcurrentQueue<Alert> Published { get; } = new();

        public int Failures => _failures;

        public Task PublishAsync(Alert alert, CancellationToken cancellationToken)
        {
            if (Interlocked.CompareExchange(ref _failures, 1, 0) == 0)
            {
                throw new InvalidOperationException("the alerts topic is unreachable (test)");
            }

            Published.Enqueue(alert);
            return Task.CompletedTask;
        }
    }
}
