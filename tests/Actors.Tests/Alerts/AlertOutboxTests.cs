using System.Text;
using Akka.Event;
using Confluent.Kafka;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Kafka;
using FraudActors.Messages.Alerts;
using FraudActors.Testing;

namespace FraudActors.Actors.Tests.Alerts;

/// <summary>The outbox puts each alert of the table on the topic once, also after a crash between delivery and its mark.</summary>
public sealed class AlertOutboxTests : IDisposable
{
    private const string Topic = "alerts";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Topic, 3));
    private readonly IProducer<byte[]?, byte[]> _producer;

    public AlertOutboxTests()
    {
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true }).Build();
    }

    [Fact]
    public async Task Every_alert_of_the_table_reaches_the_topic_once_and_replays_add_nothing()
    {
        var store = new MemoryAlertStore();
        var printed = new List<string>();
        var outbox = new AlertOutbox(store, _producer, _broker.BootstrapServers, Topic, NoLogger.Instance, a => printed.Add(a.AlertId));
        await outbox.StartAsync(CancellationToken.None);
        var alerts = Enumerable.Range(0, 20).Select(i => Alert($"r:0:{i}", $"u{i % 4}")).ToList();
        foreach (var alert in alerts.Concat(alerts))
        {
            await outbox.PublishAsync(alert, CancellationToken.None);
        }

        await outbox.DisposeAsync();

        var onTopic = AlertIds(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Topic, Timeout));
        Assert.Equal(alerts.Select(a => a.AlertId).Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));
        Assert.Equal(20, printed.Count);
        Assert.Equal((20L, 20L), await store.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task After_a_crash_between_delivery_and_mark_the_next_outbox_finds_them_on_the_topic_and_does_not_publish_them_again()
    {
        var store = new MemoryAlertStore();
        var delivered = Enumerable.Range(0, 7).Select(i => Alert($"r:1:{i}", "u9")).ToList();
        var pending = Enumerable.Range(7, 3).Select(i => Alert($"r:1:{i}", "u9")).ToList();
        foreach (var alert in delivered.Concat(pending))
        {
            await store.AddAsync(alert, CancellationToken.None);
        }

        // The crashed process had delivered the first seven but not marked them.
        foreach (var alert in delivered)
        {
            await _producer.ProduceAsync(Topic, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(alert.UserId),
                Value = AlertJson.Serialize(alert),
                Headers = new Headers { { AlertOutbox.AlertIdHeader, Encoding.UTF8.GetBytes(alert.AlertId) } },
            });
        }

        var outbox = new AlertOutbox(store, _producer, _broker.BootstrapServers, Topic, NoLogger.Instance);
        await outbox.StartAsync(CancellationToken.None);
        await outbox.DisposeAsync();

        var onTopic = AlertIds(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Topic, Timeout));
        Assert.Equal(10, onTopic.Count);
        Assert.Equal(delivered.Concat(pending).Select(a => a.AlertId).Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));
        Assert.Equal(3, outbox.Published);
    }

    public void Dispose()
    {
        _producer.Dispose();
        _broker.Dispose();
    }

    private static List<string> AlertIds(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        [.. records.Select(r => r.Header(AlertOutbox.AlertIdHeader))];

    private static Alert Alert(string id, string user) =>
        new(id, "sliding-velocity", user, 6, 60_000, 1m, DateTimeOffset.UnixEpoch, 0, 0, DateTimeOffset.UnixEpoch);
}
