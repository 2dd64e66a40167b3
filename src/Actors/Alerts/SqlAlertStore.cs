using FraudActors.Actors.Storage;
using FraudActors.Messages.Alerts;

namespace FraudActors.Actors.Alerts;

/// <summary>The alerts table on PostgreSQL (production) or SQLite (the embedded default), through plain ADO.NET.</summary>
public sealed class SqlAlertStore : IAlertStore
{
    private readonly SqlDatabase _database;
    private readonly string _createTable;

    private SqlAlertStore(SqlDatabase database, string createTable)
    {
        _database = database;
        _createTable = createTable;
    }

    public static SqlAlertStore PostgreSql(string connectionString) =>
        new(SqlDatabase.PostgreSql(connectionString), """
            CREATE TABLE IF NOT EXISTS alerts (
                seq BIGSERIAL PRIMARY KEY,
                alert_id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                payload BYTEA NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                published BOOLEAN NOT NULL DEFAULT FALSE);
            CREATE INDEX IF NOT EXISTS alerts_unpublished ON alerts (seq) WHERE NOT published;
            """);

    public static SqlAlertStore Sqlite(string connectionString) =>
        new(SqlDatabase.Sqlite(connectionString), """
            CREATE TABLE IF NOT EXISTS alerts (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                alert_id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                payload BLOB NOT NULL,
                created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
                published INTEGER NOT NULL DEFAULT 0);
            """);

    public Task InitializeAsync(CancellationToken cancellationToken) => _database.ExecuteAsync(_createTable, cancellationToken);

    public async Task<bool> AddAsync(Alert alert, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(
            connection,
            "INSERT INTO alerts (alert_id, user_id, payload) VALUES (@id, @user, @payload) ON CONFLICT (alert_id) DO NOTHING",
            ("id", alert.AlertId),
            ("user", alert.UserId),
            ("payload", AlertJson.Serialize(alert)));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<StoredAlert>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(
            connection,
            "SELECT seq, alert_id, user_id, payload FROM alerts WHERE published = @no ORDER BY seq LIMIT @limit",
            ("no", false),
            ("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<StoredAlert>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new StoredAlert(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3)));
        }

        return rows;
    }

    public async Task MarkPublishedAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken)
    {
        if (alertIds.Count == 0)
        {
            return;
        }

        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var batch in alertIds.Chunk(500))
        {
            var names = batch.Select((_, i) => $"@a{i}").ToList();
            await using var command = SqlDatabase.Command(
                connection,
                $"UPDATE alerts SET published = @yes WHERE alert_id IN ({string.Join(", ", names)})",
                [("yes", true), .. batch.Select((id, i) => ($"a{i}", (object)id))]);
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, "SELECT COUNT(*), COUNT(CASE WHEN published = @yes THEN 1 END) FROM alerts", ("yes", true));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<IReadOnlyList<string>> AlertIdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, "SELECT alert_id FROM alerts ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
