using System.Text;
using Akka.Event;
using Confluent.Kafka;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Outbox;

/// <summary>The outbox of alerts puts each alert of the table on the topic once, also after a crash between delivery and its mark, and one publisher at a time.</summary>
public sealed class AlertOutboxTests : IDisposable
{
    private const string Topic = "alerts";
    private static readonly OutboxCodec<Alert> Codec = AlertCodec.For(Topic);
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
        IOutboxTable<Alert> store = new MemoryOutboxTable<Alert>(Codec);
        var printed = new List<string>();
        var outbox = new Outbox<Alert>(store, _producer, _broker.BootstrapServers, NoLogger.Instance, a => printed.Add(a.AlertId));
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
        IOutboxTable<Alert> store = new MemoryOutboxTable<Alert>(Codec);
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
                Headers = new Headers { { Codec.IdHeader, Encoding.UTF8.GetBytes(alert.AlertId) } },
            });
        }

        var outbox = new Outbox<Alert>(store, _producer, _broker.BootstrapServers, NoLogger.Instance);
        await outbox.StartAsync(CancellationToken.None);
        await outbox.DisposeAsync();

        var onTopic = AlertIds(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Topic, Timeout));
        Assert.Equal(10, onTopic.Count);
        Assert.Equal(delivered.Concat(pending).Select(a => a.AlertId).Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));
        Assert.Equal(3, outbox.Published);
    }

    [Fact]
    public async Task A_publisher_that_takes_the_outbox_over_fences_the_earlier_one_and_every_alert_is_on_the_topic_once()
    {
        // The epoch lives in the store (here a SQLite file; the node uses its own store); both
        // publishers also share a transactional id, which a real broker fences too (the dev
        // broker's mock cluster accepts transactions but does not fence: the epoch does it here).
        var file = Path.Combine(Path.GetTempPath(), $"fence-{Guid.NewGuid():N}.db");
        var database = FraudActors.Engine.Storage.SqlDatabase.Sqlite($"Data Source={file}");
        IOutboxTable<Alert> store = new MemoryOutboxTable<Alert>(Codec);
        var first = new Outbox<Alert>(store, _producer, _broker.BootstrapServers, NoLogger.Instance, transactionalId: "fraud-outbox-test", fence: new OutboxFence(database, "job", "alerts", "first"));
        await first.StartAsync(CancellationToken.None);
        var before = Enumerable.Range(0, 10).Select(i => Alert($"r:2:{i}", "u1")).ToList();
        await first.PublishAsync(before, CancellationToken.None);
        await Eventually.TrueAsync(() => first.Published == before.Count, Timeout, () => $"published {first.Published}");

        // A second publisher of the job (another cluster, or a zombie's successor) takes the id over.
        var second = new Outbox<Alert>(store, _producer, _broker.BootstrapServers, NoLogger.Instance, transactionalId: "fraud-outbox-test", fence: new OutboxFence(database, "job", "alerts", "second"));
        await second.StartAsync(CancellationToken.None);
        await second.Reconciled.WaitAsync(Timeout);

        // The first one finds itself fenced at its next check (its next batch, or earlier on a
        // slow machine): it stops publishing; the second publishes.
        var after = Enumerable.Range(10, 10).Select(i => Alert($"r:2:{i}", "u1")).ToList();
        await first.PublishAsync(after, CancellationToken.None);
        await first.Fenced.WaitAsync(Timeout);
        await Eventually.ValueAsync(() => store.CountAsync(CancellationToken.None), c => c.Published == 20, Timeout);
        await second.DisposeAsync();
        await first.DisposeAsync();

        var onTopic = AlertIds(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Topic, Timeout));
        Assert.Equal(before.Concat(after).Select(a => a.AlertId).Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));
        Assert.Equal(10, second.Published);
        Assert.Equal(10, first.Published);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(file);
    }

    public void Dispose()
    {
        _producer.Dispose();
        _broker.Dispose();
    }

    private static List<string> AlertIds(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        [.. records.Select(r => r.Header(Codec.IdHeader))];

    private static Alert Alert(string id, string user) =>
        new(id, "sliding-velocity", user, 6, 60_000, 1m, DateTimeOffset.UnixEpoch, 0, 0, DateTimeOffset.UnixEpoch);
}
