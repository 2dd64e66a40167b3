using FraudActors.Actors.Outbox;
using FraudActors.Actors.Storage;
using FraudActors.Messages.Windows;

namespace FraudActors.Actors.Windows.Output;

/// <summary>The window results table on PostgreSQL (production) or SQLite (the embedded default), through plain ADO.NET.</summary>
public sealed class SqlWindowResultStore : IWindowResultStore
{
    private readonly SqlDatabase _database;
    private readonly string _createTable;

    private SqlWindowResultStore(SqlDatabase database, string createTable)
    {
        _database = database;
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

    public static SqlWindowResultStore Sqlite(string connectionString) =>
        new(SqlDatabase.Sqlite(connectionString), """
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

    public async Task<bool> AddAsync(WindowResult result, string topic, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
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
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(
            connection,
            "SELECT seq, result_id, topic, user_id, payload FROM window_results WHERE published = @no ORDER BY seq LIMIT @limit",
            ("no", false),
            ("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<OutboxRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new OutboxRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4)));
        }

        return rows;
    }

    public async Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var batch in ids.Chunk(500))
        {
            var names = batch.Select((_, i) => $"@r{i}").ToList();
            await using var command = SqlDatabase.Command(
                connection,
                $"UPDATE window_results SET published = @yes WHERE result_id IN ({string.Join(", ", names)})",
                [("yes", true), .. batch.Select((id, i) => ($"r{i}", (object)id))]);
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, "SELECT COUNT(*), COUNT(CASE WHEN published = @yes THEN 1 END) FROM window_results", ("yes", true));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<IReadOnlyList<string>> ResultIdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, "SELECT result_id FROM window_results ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
