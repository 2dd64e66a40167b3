using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows.Output;

/// <summary>The window results table on PostgreSQL (production) or SQLite (the embedded default), through plain ADO.NET.</summary>
public sealed class SqlWindowResultStore : IWindowResultStore
{
    private readonly SqlDatabase _database;
    private readonly SqlOutboxTable _table;
    private readonly string _createTable;

    private SqlWindowResultStore(SqlDatabase database, string createTable)
    {
        _database = database;
        _table = new SqlOutboxTable(database, "window_results", "result_id");
        _createTable = createTable;
    }

    public static SqlWindowResultStore PostgreSql(string connectionString) =>
        new(SqlDatabase.PostgreSql(connectionString), """
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
            """);

    public static SqlWindowResultStore Sqlite(string connectionString, SqliteAccess? access = null) =>
        new(SqlDatabase.Sqlite(connectionString, access), """
            CREATE TABLE IF NOT EXISTS window_results (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                result_id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                user_id TEXT NOT NULL,
                topic TEXT NOT NULL,
                payload BLOB NOT NULL,
                created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
                published INTEGER NOT NULL DEFAULT 0);
            """);

    public Task InitializeAsync(CancellationToken cancellationToken) => _database.ExecuteAsync(_createTable, cancellationToken);

    public async Task<IReadOnlyList<WindowResult>> AddRangeAsync(IReadOnlyList<(WindowResult Result, string Topic)> results, CancellationToken cancellationToken)
    {
        var inserted = await _table.InsertNewAsync(
            ["result_id", "kind", "user_id", "topic", "payload"],
            [.. results.Select(r => new object[] { r.Result.ResultId, r.Result.Kind, r.Result.UserId, r.Topic, WindowResultJson.Serialize(r.Result) })],
            cancellationToken).ConfigureAwait(false);
        return [.. results.Select(r => r.Result).Where(r => inserted.Remove(r.ResultId))];
    }

    public async Task<bool> AddAsync(WindowResult result, string topic, CancellationToken cancellationToken)
    {
        return await _database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var command = SqlDatabase.Command(
                    connection,
                    """
                    INSERT INTO window_results (result_id, kind, user_id, topic, payload)
                    VALUES (@id, @kind, @user, @topic, @payload) ON CONFLICT (result_id) DO NOTHING
                    """,
                    ("id", result.ResultId),
                    ("kind", result.Kind),
                    ("user", result.UserId),
                    ("topic", topic),
                    ("payload", WindowResultJson.Serialize(result)));
                command.Transaction = transaction;
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken) =>
        _table.UnpublishedAsync(
            "seq, result_id, topic, user_id, payload",
            limit,
            reader => new OutboxRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4)),
            cancellationToken);

    public Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) => _table.MarkPublishedAsync(ids, cancellationToken);

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken) => _table.CountAsync(cancellationToken);

    public Task<IReadOnlyList<string>> ResultIdsAsync(CancellationToken cancellationToken) => _table.IdsAsync(cancellationToken);
}
