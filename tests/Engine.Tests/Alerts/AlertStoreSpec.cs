using FraudActors.Engine.Alerts;
using FraudActors.Messages.Alerts;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Alerts;

/// <summary>The alerts table's rules, for each store.</summary>
public abstract class AlertStoreSpec
{
    protected abstract IAlertStore Create();

    [Fact]
    public async Task A_replayed_alert_inserts_nothing_and_rows_come_out_in_insertion_order_until_published()
    {
        var store = Create();
        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None);
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var alerts = Enumerable.Range(0, 5).Select(i => Sample($"{prefix}:{i}")).ToList();

        foreach (var alert in alerts)
        {
            Assert.True(await store.AddAsync(alert, CancellationToken.None));
        }

        Assert.False(await store.AddAsync(alerts[2], CancellationToken.None));

        var unpublished = (await store.UnpublishedAsync(1000, CancellationToken.None)).Where(r => r.AlertId.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(alerts.Select(a => a.AlertId), unpublished.Select(r => r.AlertId));
        Assert.Equal(alerts[0], AlertJson.Deserialize(unpublished[0].Payload));
        Assert.True(unpublished.Zip(unpublished.Skip(1), (a, b) => a.Seq < b.Seq).All(ordered => ordered));

        await store.MarkPublishedAsync([alerts[0].AlertId, alerts[1].AlertId], CancellationToken.None);
        var left = (await store.UnpublishedAsync(1000, CancellationToken.None)).Where(r => r.AlertId.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Equal(alerts.Skip(2).Select(a => a.AlertId), left.Select(r => r.AlertId));
    }

    [Fact]
    public async Task A_group_of_alerts_goes_in_in_order_and_only_the_new_ones_come_back()
    {
        var store = Create();
        await store.InitializeAsync(CancellationToken.None);
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var alerts = Enumerable.Range(0, 700).Select(i => Sample($"{prefix}:{i}")).ToList();
        Assert.True(await store.AddAsync(alerts[3], CancellationToken.None));

        // More rows than one statement takes; one already stored; one twice in the group (a replay).
        var added = await store.AddRangeAsync([.. alerts, alerts[10]], CancellationToken.None);

        Assert.Equal(alerts.Where((_, i) => i != 3).Select(a => a.AlertId), added.Select(a => a.AlertId));
        var unpublished = (await store.UnpublishedAsync(1000, CancellationToken.None)).Where(r => r.AlertId.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal([alerts[3].AlertId, .. alerts.Where((_, i) => i != 3).Select(a => a.AlertId)], unpublished.Select(r => r.AlertId));
        Assert.Equal(alerts[5], AlertJson.Deserialize(unpublished.Single(r => r.AlertId == alerts[5].AlertId).Payload));
        Assert.Empty(await store.AddRangeAsync([alerts[0], alerts[699]], CancellationToken.None));
    }

    protected static Alert Sample(string id) =>
        new(id, "sliding-velocity", "u1", 6, 60_000, 12.5m, new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero), 0, 1, new DateTimeOffset(2026, 3, 17, 9, 0, 1, TimeSpan.Zero));
}

public sealed class MemoryAlertStoreTests : AlertStoreSpec
{
    protected override IAlertStore Create() => new MemoryAlertStore();
}

public sealed class SqliteAlertStoreTests : AlertStoreSpec
{
    protected override IAlertStore Create() =>
        SqlAlertStore.Sqlite($"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-alerts-{Guid.NewGuid():N}.db")}");
}

public sealed class PostgreSqlAlertStoreTests : AlertStoreSpec
{
    /// <summary>A database of its own per test: the shared one's alerts table holds other tests' unpublished rows.</summary>
    protected override IAlertStore Create() => SqlAlertStore.PostgreSql(TestPostgres.CreateDatabaseAsync("alerts").GetAwaiter().GetResult());
}
