using System.Data.Common;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Outbox;

/// <summary>
/// The tables keep the schema that the drill, the tests and operators read: a table created by
/// an earlier build (its DDL as it was written) has the same columns as one created now, and the
/// outbox works on it as it is.
/// </summary>
public sealed class OutboxTableSchemaTests
{
    [Fact]
    public async Task On_SQLite_the_tables_have_the_columns_they_always_had_and_an_existing_database_still_works()
    {
        var created = $"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-schema-new-{Guid.NewGuid():N}.db")}";
        var existing = $"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-schema-old-{Guid.NewGuid():N}.db")}";
        await SqlDatabase.Sqlite(existing).ExecuteAsync(SqliteAlerts + SqliteWindowResults, CancellationToken.None);

        await AssertSameAndWorkingAsync(created, existing, SqlOutboxTable<Alert>.Sqlite, SqlOutboxTable<WindowResult>.Sqlite, c => SqlDatabase.Sqlite(c), SqliteColumns);
    }

    [Fact]
    public async Task On_PostgreSQL_the_tables_have_the_columns_and_indexes_they_always_had_and_an_existing_database_still_works()
    {
        var created = await TestPostgres.CreateDatabaseAsync("schema_new");
        var existing = await TestPostgres.CreateDatabaseAsync("schema_old");
        await SqlDatabase.PostgreSql(existing).ExecuteAsync(PostgreSqlAlerts + PostgreSqlWindowResults, CancellationToken.None);

        await AssertSameAndWorkingAsync(
            created,
            existing,
            (c, codec, _) => SqlOutboxTable<Alert>.PostgreSql(c, codec),
            (c, codec, _) => SqlOutboxTable<WindowResult>.PostgreSql(c, codec),
            SqlDatabase.PostgreSql,
            PostgreSqlColumns);
    }

    private static async Task AssertSameAndWorkingAsync(
        string created,
        string existing,
        Func<string, OutboxCodec<Alert>, SqliteAccess?, IOutboxTable<Alert>> alerts,
        Func<string, OutboxCodec<WindowResult>, SqliteAccess?, IOutboxTable<WindowResult>> windows,
        Func<string, SqlDatabase> database,
        string describe)
    {
        var alertCodec = AlertCodec.For("alerts");
        var windowCodec = WindowResultCodec.For("user-window-counts", "user-sessions");
        await alerts(created, alertCodec, null).InitializeAsync(CancellationToken.None);
        await windows(created, windowCodec, null).InitializeAsync(CancellationToken.None);
        foreach (var table in new[] { "alerts", "window_results" })
        {
            Assert.Equal(await ReadAsync(database(existing), describe, table), await ReadAsync(database(created), describe, table));
        }

        var alert = new Alert("sliding-velocity:0:1", "sliding-velocity", "u1", 6, 60_000, 1m, DateTimeOffset.UnixEpoch, 0, 1, DateTimeOffset.UnixEpoch);
        var session = new WindowResult(WindowResult.SessionId("u1", 0), WindowKinds.Session, "u1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5), 2, 3m, DateTimeOffset.UnixEpoch.AddMinutes(1));
        var alertTable = alerts(existing, alertCodec, null);
        var windowTable = windows(existing, windowCodec, null);
        await alertTable.InitializeAsync(CancellationToken.None);
        await windowTable.InitializeAsync(CancellationToken.None);
        Assert.True(await alertTable.AddAsync(alert, CancellationToken.None));
        Assert.True(await windowTable.AddAsync(session, CancellationToken.None));
        Assert.Equal(("alerts", "u1"), (await alertTable.UnpublishedAsync(10, CancellationToken.None)).Select(r => (r.Topic, r.Key)).Single());
        Assert.Equal(("user-sessions", "u1"), (await windowTable.UnpublishedAsync(10, CancellationToken.None)).Select(r => (r.Topic, r.Key)).Single());
        Assert.Equal(["session"], await ReadAsync(database(existing), "SELECT kind FROM window_results", null));
    }

    private static async Task<List<string>> ReadAsync(SqlDatabase database, string sql, string? table)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using DbCommand command = table is null ? SqlDatabase.Command(connection, sql) : SqlDatabase.Command(connection, sql, ("table", table));
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    private const string SqliteColumns = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(@table) ORDER BY cid";

    private const string PostgreSqlColumns =
        """
        SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_name = @table
        UNION ALL SELECT indexname, indexdef, '', '' FROM pg_indexes WHERE tablename = @table
        ORDER BY 1
        """;

    // The tables as an earlier build created them, verbatim: a database it left must still work.
    private const string SqliteAlerts =
        """
        CREATE TABLE IF NOT EXISTS alerts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            alert_id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
            published INTEGER NOT NULL DEFAULT 0);

        """;

    private const string SqliteWindowResults =
        """
        CREATE TABLE IF NOT EXISTS window_results (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            result_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            user_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
            published INTEGER NOT NULL DEFAULT 0);
        """;

    private const string PostgreSqlAlerts =
        """
        CREATE TABLE IF NOT EXISTS alerts (
            seq BIGSERIAL PRIMARY KEY,
            alert_id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL,
            payload BYTEA NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            published BOOLEAN NOT NULL DEFAULT FALSE);
        CREATE INDEX IF NOT EXISTS alerts_unpublished ON alerts (seq) WHERE NOT published;

        """;

    private const string PostgreSqlWindowResults =
        """
        CREATE TABLE IF NOT EXISTS window_results (
            seq BIGSERIAL PRIMARY KEY,
            result_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            user_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            payload BYTEA NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            published BOOLEAN NOT NULL DEFAULT FALSE);
        CREATE INDEX IF NOT EXISTS window_results_unpublished ON window_results (seq) WHERE NOT published;
        """;
}
