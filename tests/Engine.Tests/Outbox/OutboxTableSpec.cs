using FraudActors.Engine.Outbox;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Outbox;

/// <summary>An outbox table's rules, for every kind (its codec) and every store.</summary>
public abstract class OutboxTableSpec<T>(Func<OutboxCodec<T>, IOutboxTable<T>> open)
{
    /// <summary>The codec under test; its topics are those of <see cref="TopicOf"/>.</summary>
    protected abstract OutboxCodec<T> Codec { get; }

    protected abstract T Sample(int i);

    protected abstract string IdOf(T record);

    protected abstract string KeyOf(T record);

    protected abstract string TopicOf(T record);

    /// <summary>The record read back from its payload.</summary>
    protected abstract T Read(byte[] payload);

    [Fact]
    public async Task A_replayed_record_inserts_nothing_and_rows_come_out_in_insertion_order_with_topic_and_key_until_published()
    {
        var table = open(Codec);
        await table.InitializeAsync(CancellationToken.None);
        await table.InitializeAsync(CancellationToken.None);
        var records = Enumerable.Range(0, 6).Select(Sample).ToList();

        foreach (var record in records)
        {
            Assert.True(await table.AddAsync(record, CancellationToken.None));
        }

        Assert.False(await table.AddAsync(records[2], CancellationToken.None));

        var unpublished = await table.UnpublishedAsync(1000, CancellationToken.None);
        Assert.Equal(records.Select(IdOf), unpublished.Select(r => r.Id));
        Assert.Equal(records.Select(TopicOf), unpublished.Select(r => r.Topic));
        Assert.Equal(records.Select(KeyOf), unpublished.Select(r => r.Key));
        Assert.Equal(records, unpublished.Select(r => Read(r.Payload)));
        Assert.True(unpublished.Zip(unpublished.Skip(1), (a, b) => a.Seq < b.Seq).All(ordered => ordered));
        Assert.Equal(records.Take(2).Select(IdOf), (await table.UnpublishedAsync(2, CancellationToken.None)).Select(r => r.Id));

        await table.MarkPublishedAsync([IdOf(records[0]), IdOf(records[1]), "not-there"], CancellationToken.None);
        var left = await table.UnpublishedAsync(1000, CancellationToken.None);
        Assert.Equal(records.Skip(2).Select(IdOf), left.Select(r => r.Id));
        Assert.Equal((6L, 2L), await table.CountAsync(CancellationToken.None));
        Assert.Equal(records.Select(IdOf), await table.IdsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Marking_more_ids_than_one_statement_takes_marks_them_all()
    {
        var table = open(Codec);
        await table.InitializeAsync(CancellationToken.None);
        var ids = Enumerable.Range(0, 1203).Select(i => IdOf(Sample(i))).ToList();
        int[] stored = [0, 499, 500, 1000, 1202];
        foreach (var i in stored)
        {
            await table.AddAsync(Sample(i), CancellationToken.None);
        }

        // One statement takes 500 ids; the rows sit in the first, second and third.
        await table.MarkPublishedAsync(ids, CancellationToken.None);
        await table.MarkPublishedAsync([], CancellationToken.None);

        Assert.Empty(await table.UnpublishedAsync(10, CancellationToken.None));
        Assert.Equal((5L, 5L), await table.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_group_goes_in_in_order_with_its_topics_and_only_the_new_ones_come_back()
    {
        var table = open(Codec);
        await table.InitializeAsync(CancellationToken.None);
        var records = Enumerable.Range(0, 700).Select(Sample).ToList();
        Assert.True(await table.AddAsync(records[7], CancellationToken.None));

        // More rows than one statement takes; one already stored; one twice in the group (a replay).
        var added = await table.AddRangeAsync([.. records, records[10]], CancellationToken.None);

        Assert.Equal(records.Where((_, i) => i != 7).Select(IdOf), added.Select(IdOf));
        Assert.Equal([IdOf(records[7]), .. records.Where((_, i) => i != 7).Select(IdOf)], await table.IdsAsync(CancellationToken.None));
        var rows = await table.UnpublishedAsync(1000, CancellationToken.None);
        Assert.All(rows, row => Assert.Equal(TopicOf(records.Single(r => IdOf(r) == row.Id)), row.Topic));
        Assert.Equal(records[5], Read(rows.Single(r => r.Id == IdOf(records[5])).Payload));
        Assert.Empty(await table.AddRangeAsync([records[0], records[699]], CancellationToken.None));
        Assert.Empty(await table.AddRangeAsync([], CancellationToken.None));
    }
}

/// <summary>Where the specs' tables live: each test a table of its own.</summary>
public static class TestTables
{
    public static IOutboxTable<T> Memory<T>(OutboxCodec<T> codec) => new MemoryOutboxTable<T>(codec);

    public static IOutboxTable<T> Sqlite<T>(OutboxCodec<T> codec) =>
        SqlOutboxTable<T>.Sqlite($"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-outbox-{Guid.NewGuid():N}.db")}", codec);

    /// <summary>A database of its own per test: a shared one's table would hold other tests' unpublished rows.</summary>
    public static IOutboxTable<T> PostgreSql<T>(OutboxCodec<T> codec) =>
        SqlOutboxTable<T>.PostgreSql(TestPostgres.CreateDatabaseAsync("outbox").GetAwaiter().GetResult(), codec);
}
