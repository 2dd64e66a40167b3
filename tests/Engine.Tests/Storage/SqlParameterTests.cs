using FraudActors.Engine.Alerts;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Tests.Storage;

/// <summary>
/// Every value reaches SQL as a parameter and every identifier is a plain name chosen in code:
/// text made of SQL is stored as text, and a table or column name that is not a plain
/// identifier is refused before any statement is built.
/// </summary>
public sealed class SqlParameterTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"fraud-sql-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task Values_made_of_SQL_are_stored_as_text_and_drop_nothing()
    {
        IOutboxTable<Alert> store = SqlOutboxTable<Alert>.Sqlite($"Data Source={_file};Pooling=False", AlertCodec.For("alerts"));
        await store.InitializeAsync(CancellationToken.None);
        const string hostileId = "x'); DROP TABLE alerts; --";
        const string hostileUser = "u1' OR '1'='1";
        var alerts = new[]
        {
            new Alert(hostileId, "sliding-velocity", hostileUser, 6, 60_000, 1.5m, DateTimeOffset.UnixEpoch, 0, 1, DateTimeOffset.UnixEpoch),
            new Alert("plain", "sliding-velocity", "u2", 6, 60_000, 1.5m, DateTimeOffset.UnixEpoch, 0, 2, DateTimeOffset.UnixEpoch),
        };

        Assert.Equal(2, (await store.AddRangeAsync(alerts, CancellationToken.None)).Count);
        Assert.False(await store.AddAsync(alerts[0], CancellationToken.None));
        await store.MarkPublishedAsync([hostileUser], CancellationToken.None);

        Assert.Equal([hostileId, "plain"], await store.IdsAsync(CancellationToken.None));
        Assert.Equal((2L, 0L), await store.CountAsync(CancellationToken.None));
        var unpublished = await store.UnpublishedAsync(10, CancellationToken.None);
        Assert.Equal(hostileUser, unpublished[0].Key);
    }

    [Theory]
    [InlineData("alerts; DROP TABLE alerts", "alert_id")]
    [InlineData("alerts", "alert_id\" OR 1=1 --")]
    [InlineData("Alerts", "alert_id")]
    public void A_table_or_column_that_is_not_a_plain_identifier_is_refused(string table, string column)
    {
        var codec = new OutboxCodec<Alert>("Alert outbox", new OutboxTableShape(table, column, [], TopicColumn: false), ["alerts"], a => new OutboxRecord(a.AlertId, "alerts", a.UserId, [], []));
        Assert.Throws<ArgumentException>(() => SqlOutboxTable<Alert>.Sqlite($"Data Source={_file}", codec));
    }

    public void Dispose() => File.Delete(_file);
}
