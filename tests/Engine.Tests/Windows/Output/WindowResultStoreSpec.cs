using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Windows;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Windows.Output;

/// <summary>The window results table's rules, for each store.</summary>
public abstract class WindowResultStoreSpec
{
    protected abstract Task<IWindowResultStore> CreateAsync();

    [Fact]
    public async Task A_replayed_result_inserts_nothing_and_rows_come_out_in_insertion_order_with_their_topic_until_published()
    {
        var store = await CreateAsync();
        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None);
        var results = Enumerable.Range(0, 6).Select(Sample).ToList();

        foreach (var result in results)
        {
            Assert.True(await store.AddAsync(result, TopicOf(result), CancellationToken.None));
        }

        Assert.False(await store.AddAsync(results[2], TopicOf(results[2]), CancellationToken.None));
        Assert.False(await store.AddAsync(results[3], "elsewhere", CancellationToken.None));

        var unpublished = await store.UnpublishedAsync(1000, CancellationToken.None);
        Assert.Equal(results.Select(r => r.ResultId), unpublished.Select(r => r.Id));
        Assert.Equal(results.Select(TopicOf), unpublished.Select(r => r.Topic));
        Assert.Equal(results.Select(r => r.UserId), unpublished.Select(r => r.Key));
        Assert.Equal(results, unpublished.Select(r => WindowResultJson.Deserialize(r.Payload)));
        Assert.True(unpublished.Zip(unpublished.Skip(1), (a, b) => a.Seq < b.Seq).All(ordered => ordered));
        Assert.Equal(results.Take(2).Select(r => r.ResultId), (await store.UnpublishedAsync(2, CancellationToken.None)).Select(r => r.Id));

        await store.MarkPublishedAsync([results[0].ResultId, results[1].ResultId, "not-there"], CancellationToken.None);
        var left = await store.UnpublishedAsync(1000, CancellationToken.None);
        Assert.Equal(results.Skip(2).Select(r => r.ResultId), left.Select(r => r.Id));
        Assert.Equal((6L, 2L), await store.CountAsync(CancellationToken.None));
        Assert.Equal(results.Select(r => r.ResultId), await store.ResultIdsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Marking_more_ids_than_one_statement_takes_marks_them_all()
    {
        var store = await CreateAsync();
        await store.InitializeAsync(CancellationToken.None);
        var ids = Enumerable.Range(0, 1203).Select(i => Sample(i).ResultId).ToList();
        int[] stored = [0, 499, 500, 1000, 1202];
        foreach (var i in stored)
        {
            await store.AddAsync(Sample(i), TopicOf(Sample(i)), CancellationToken.None);
        }

        // One statement takes 500 ids; the rows sit in the first, second and third.
        await store.MarkPublishedAsync(ids, CancellationToken.None);
        await store.MarkPublishedAsync([], CancellationToken.None);

        Assert.Empty(await store.UnpublishedAsync(10, CancellationToken.None));
        Assert.Equal((5L, 5L), await store.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_group_of_results_goes_in_in_order_with_their_topics_and_only_the_new_ones_come_back()
    {
        var store = await CreateAsync();
        await store.InitializeAsync(CancellationToken.None);
        var results = Enumerable.Range(0, 250).Select(Sample).ToList();
        Assert.True(await store.AddAsync(results[7], TopicOf(results[7]), CancellationToken.None));

        var added = await store.AddRangeAsync([.. results.Select(r => (r, TopicOf(r))), (results[1], TopicOf(results[1]))], CancellationToken.None);

        Assert.Equal(results.Where((_, i) => i != 7).Select(r => r.ResultId), added.Select(r => r.ResultId));
        Assert.Equal([results[7].ResultId, .. results.Where((_, i) => i != 7).Select(r => r.ResultId)], await store.ResultIdsAsync(CancellationToken.None));
        var rows = await store.UnpublishedAsync(1000, CancellationToken.None);
        Assert.All(rows, row => Assert.Equal(TopicOf(results.Single(r => r.ResultId == row.Id)), row.Topic));
    }

    private static string TopicOf(WindowResult result) => result.IsSession ? "user-sessions" : "user-window-counts";

    /// <summary>Every third result a session, the others tumbling windows, spread over a few users.</summary>
    private static WindowResult Sample(int i)
    {
        var start = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero).AddMinutes(i);
        var user = $"u{i % 4}";
        return i % 3 == 2
            ? new WindowResult(WindowResult.SessionId(user, start.ToUnixTimeMilliseconds()), WindowKinds.Session, user, start, start.AddSeconds(42), 3, 7.5m, start.AddMinutes(2))
            : new WindowResult(
                WindowResult.TimeWindowId(WindowKinds.Tumbling, user, start.ToUnixTimeMilliseconds(), start.AddMinutes(1).ToUnixTimeMilliseconds()),
                WindowKinds.Tumbling,
                user,
                start,
                start.AddMinutes(1),
                i,
                12.5m,
                start.AddMinutes(1).AddSeconds(5));
    }
}

public sealed class MemoryWindowResultStoreTests : WindowResultStoreSpec
{
    protected override Task<IWindowResultStore> CreateAsync() => Task.FromResult<IWindowResultStore>(new MemoryWindowResultStore());
}

public sealed class SqliteWindowResultStoreTests : WindowResultStoreSpec
{
    protected override Task<IWindowResultStore> CreateAsync() =>
        Task.FromResult<IWindowResultStore>(SqlWindowResultStore.Sqlite($"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-windows-{Guid.NewGuid():N}.db")}"));
}

public sealed class PostgreSqlWindowResultStoreTests : WindowResultStoreSpec
{
    protected override async Task<IWindowResultStore> CreateAsync() =>
        SqlWindowResultStore.PostgreSql(await TestPostgres.CreateDatabaseAsync("windows"));
}
