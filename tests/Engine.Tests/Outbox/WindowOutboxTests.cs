using System.Text;
using Akka.Event;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Windows;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Outbox;

/// <summary>
/// The outbox of window results puts each result of the table on its topic once — sessions on the sessions
/// topic, the rest on the counts topic — also after a crash or a failure between delivery and mark.
/// </summary>
public sealed class WindowOutboxTests : IDisposable
{
    private const string Counts = "user-window-counts";
    private const string Sessions = "user-sessions";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly OutboxCodec<WindowResult> Codec = WindowResultCodec.For(Counts, Sessions);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Counts, 3), (Sessions, 2));
    private readonly IProducer<byte[]?, byte[]> _producer;

    public WindowOutboxTests()
    {
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true }).Build();
    }

    [Fact]
    public async Task Every_result_reaches_its_topic_once_keyed_by_user_and_replays_add_nothing()
    {
        IOutboxTable<WindowResult> store = new MemoryOutboxTable<WindowResult>(Codec);
        var printed = new List<WindowResult>();
        var results = Enumerable.Range(0, 40).Select(Sample).ToList();
        var outbox = Outbox(store, printed.Add);
        await outbox.StartAsync(CancellationToken.None);
        foreach (var result in results.Concat(results))
        {
            await outbox.PublishAsync(result, CancellationToken.None);
        }

        await outbox.DisposeAsync();

        // A restarted pipeline replays the same results: the table takes none, the topics get none.
        var again = Outbox(store);
        await again.StartAsync(CancellationToken.None);
        foreach (var result in results)
        {
            await again.PublishAsync(result, CancellationToken.None);
        }

        await again.DisposeAsync();

        AssertOnTopicsOnce(results);
        Assert.Equal(40, outbox.Published);
        Assert.Equal(0, again.Published);
        Assert.Equal(results, printed);
        Assert.Equal((40L, 40L), await store.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task After_a_crash_between_delivery_and_mark_the_next_outbox_finds_them_on_both_topics_and_does_not_publish_them_again()
    {
        IOutboxTable<WindowResult> store = new MemoryOutboxTable<WindowResult>(Codec);
        var results = Enumerable.Range(0, 12).Select(Sample).ToList();
        var delivered = results.Take(9).ToList();
        foreach (var result in results)
        {
            await store.AddAsync(result, CancellationToken.None);
        }

        // The crashed process had delivered the first nine, to both topics, but not marked them.
        Assert.Contains(delivered, r => r.IsSession);
        Assert.Contains(delivered, r => !r.IsSession);
        foreach (var result in delivered)
        {
            await _producer.ProduceAsync(result.IsSession ? Sessions : Counts, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(result.UserId),
                Value = WindowResultJson.Serialize(result),
                Headers = new Headers { { Codec.IdHeader, Encoding.UTF8.GetBytes(result.ResultId) } },
            });
        }

        var outbox = Outbox(store);
        await outbox.StartAsync(CancellationToken.None);
        await outbox.DisposeAsync();

        AssertOnTopicsOnce(results);
        Assert.Equal(3, outbox.Published);
        Assert.Equal((12L, 12L), await store.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task When_the_mark_fails_after_delivery_the_outbox_reads_the_tails_again_and_publishes_nothing_twice()
    {
        var store = new FailingFirstMark(new MemoryOutboxTable<WindowResult>(Codec));
        var results = Enumerable.Range(0, 10).Select(Sample).ToList();
        var outbox = Outbox(store);
        await outbox.StartAsync(CancellationToken.None);
        foreach (var result in results)
        {
            await outbox.PublishAsync(result, CancellationToken.None);
        }

        await Eventually.ValueAsync(() => store.CountAsync(CancellationToken.None), counts => counts.Published == results.Count, Timeout);
        await outbox.DisposeAsync();

        Assert.True(store.Failed);
        AssertOnTopicsOnce(results);
    }

    public void Dispose()
    {
        _producer.Dispose();
        _broker.Dispose();
    }

    private Outbox<WindowResult> Outbox(IOutboxTable<WindowResult> store, Action<WindowResult>? published = null) =>
        new(store, _producer, _broker.BootstrapServers, NoLogger.Instance, published);

    private void AssertOnTopicsOnce(IReadOnlyCollection<WindowResult> results)
    {
        var counts = KafkaTestTopics.ReadAll(_broker.BootstrapServers, Counts, Timeout);
        var sessions = KafkaTestTopics.ReadAll(_broker.BootstrapServers, Sessions, Timeout);
        Assert.Equal(Ids(results.Where(r => !r.IsSession)), Ids(counts));
        Assert.Equal(Ids(results.Where(r => r.IsSession)), Ids(sessions));
        foreach (var record in counts.Concat(sessions))
        {
            var result = WindowResultJson.Deserialize(record.Message.Value);
            Assert.Equal(result.ResultId, record.Header(Codec.IdHeader));
            Assert.Equal(result.UserId, Encoding.UTF8.GetString(record.Message.Key!));
            Assert.Contains(result, results);
        }
    }

    private static List<string> Ids(IEnumerable<WindowResult> results) => [.. results.Select(r => r.ResultId).Order(StringComparer.Ordinal)];

    private static List<string> Ids(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        [.. records.Select(r => r.Header(Codec.IdHeader)).Order(StringComparer.Ordinal)];

    /// <summary>Each kind in turn, over a few users; every fourth a session.</summary>
    private static WindowResult Sample(int i)
    {
        var start = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero).AddMinutes(i);
        var user = $"u{i % 5}";
        var (startMs, endMs) = (start.ToUnixTimeMilliseconds(), start.AddMinutes(1).ToUnixTimeMilliseconds());
        return (i % 4) switch
        {
            0 => new WindowResult(WindowResult.TimeWindowId(WindowKinds.Tumbling, user, startMs, endMs), WindowKinds.Tumbling, user, start, start.AddMinutes(1), i, 10m + i, start.AddMinutes(2)),
            1 => new WindowResult(WindowResult.TimeWindowId(WindowKinds.Sliding, user, startMs, endMs), WindowKinds.Sliding, user, start, start.AddMinutes(1), i, 0.5m, start.AddMinutes(2)),
            2 => new WindowResult(WindowResult.CountWindowId(user, i), WindowKinds.Count, user, start, start.AddSeconds(30), 5, 99.99m, start.AddMinutes(1)),
            _ => new WindowResult(WindowResult.SessionId(user, startMs), WindowKinds.Session, user, start, start.AddSeconds(75), 3, 42m, start.AddMinutes(5)),
        };
    }

    /// <summary>A table that is unavailable once, just when the first delivered batch is to be marked.</summary>
    private sealed class FailingFirstMark(IOutboxTable<WindowResult> inner) : IOutboxTable<WindowResult>
    {
        private int _failed;

        public bool Failed => Volatile.Read(ref _failed) == 1;

        public Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
            ids.Count > 0 && Interlocked.Exchange(ref _failed, 1) == 0
                ? throw new InvalidOperationException("the table is unavailable")
                : inner.MarkPublishedAsync(ids, cancellationToken);

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken) => inner.UnpublishedAsync(limit, cancellationToken);

        public OutboxCodec<WindowResult> Codec => inner.Codec;

        public Task<IReadOnlyList<WindowResult>> AddRangeAsync(IReadOnlyList<WindowResult> records, CancellationToken cancellationToken) => inner.AddRangeAsync(records, cancellationToken);

        public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

        public Task<IReadOnlyList<string>> IdsAsync(CancellationToken cancellationToken) => inner.IdsAsync(cancellationToken);
    }
}
