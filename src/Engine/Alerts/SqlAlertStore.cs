using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Alerts;

/// <summary>The alerts table on PostgreSQL (production) or SQLite (the embedded default), through plain ADO.NET.</summary>
public sealed class SqlAlertStore : IAlertStore
{
    private readonly SqlDatabase _database;
    private readonly SqlOutboxTable _table;
    private readonly string _createTable;

    private SqlAlertStore(SqlDatabase database, string createTable)
    {
        _database = database;
        _table = new SqlOutboxTable(database, "alerts", "alert_id");
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

    public static SqlAlertStore Sqlite(string connectionString, SqliteAccess? access = null) =>
        new(SqlDatabase.Sqlite(connectionString, access), """
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
        return await _database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var command = SqlDatabase.Command(
                    connection,
                    "INSERT INTO alerts (alert_id, user_id, payload) VALUES (@id, @user, @payload) ON CONFLICT (alert_id) DO NOTHING",
                    ("id", alert.AlertId),
                    ("user", alert.UserId),
                    ("payload", AlertJson.Serialize(alert)));
                command.Transaction = transaction;
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Alert>> AddRangeAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        var inserted = await _table.InsertNewAsync(
            ["alert_id", "user_id", "payload"],
            [.. alerts.Select(a => new object[] { a.AlertId, a.UserId, AlertJson.Serialize(a) })],
            cancellationToken).ConfigureAwait(false);

        // A replayed record's alert may come twice in one group: counted new once.
        return [.. alerts.Where(a => inserted.Remove(a.AlertId))];
    }

    public Task<IReadOnlyList<StoredAlert>> UnpublishedAsync(int limit, CancellationToken cancellationToken) =>
        _table.UnpublishedAsync(
            "seq, alert_id, user_id, payload",
            limit,
            reader => new StoredAlert(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3)),
            cancellationToken);

    public Task MarkPublishedAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken) => _table.MarkPublishedAsync(alertIds, cancellationToken);

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken) => _table.CountAsync(cancellationToken);

    public Task<IReadOnlyList<string>> AlertIdsAsync(CancellationToken cancellationToken) => _table.IdsAsync(cancellationToken);
}
