using System.Data.Common;
using FraudActors.Engine.Storage;
using FraudActors.Engine.Users;

namespace FraudActors.Engine.Checkpoints.Store;

/// <summary>
/// The users' committed states in the journals' own database (PostgreSQL or SQLite): one row a
/// user (<c>fraud_user_state</c>, with the state's next timer as a column so recovery finds whom
/// to wake without reading states) and one mark a journal (<c>fraud_state_marks</c>).
/// </summary>
public sealed class SqlUserStateStore(SqlDatabase database) : IUserStateStore
{
    /// <summary>Rows a statement writes or reads at most (SQLite allows 32,766 parameters; PostgreSQL arrays are unbounded, round trips are not).</summary>
    private const int Batch = 500;

    private readonly object _gate = new();
    private Task? _tables;

    public bool InMemory => false;

    public byte[]? ReadNow(string journal, string userId) => throw new NotSupportedException("a SQL store is read asynchronously");

    public async Task<StateMark> ReadMarkAsync(string journal, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadMarkAsync(connection, null, journal, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Dictionary<string, byte[]>> ReadAsync(string journal, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var batch in userIds.Chunk(Batch))
        {
            await using var read = database.IsPostgres
                ? SqlDatabase.Command(connection, "SELECT user_id, state FROM fraud_user_state WHERE journal = @journal AND user_id = ANY(@ids)", ("journal", journal), ("ids", batch))
                : SqliteIn(connection, journal, batch);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found[reader.GetString(0)] = (byte[])reader.GetValue(1);
            }
        }

        return found;
    }

    public async Task<StateMark> WriteAsync(string journal, StateWrite write, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        return await database.WriteAsync(
            async (connection, transaction) =>
            {
                var mark = await ReadMarkAsync(connection, transaction, journal, cancellationToken).ConfigureAwait(false);
                var users = mark.Users;
                if (write.Replace && write.Sequence > mark.Sequence)
                {
                    await using var clear = SqlDatabase.Command(connection, "DELETE FROM fraud_user_state WHERE journal = @journal", ("journal", journal));
                    clear.Transaction = transaction;
                    await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    users = 0;
                }

                foreach (var batch in write.Users.Chunk(Batch))
                {
                    users += database.IsPostgres
                        ? await UpsertPostgresAsync(connection, transaction, journal, batch, cancellationToken).ConfigureAwait(false)
                        : await UpsertSqliteAsync(connection, transaction, journal, batch, cancellationToken).ConfigureAwait(false);
                }

                var next = new StateMark(Math.Max(mark.Sequence, write.Sequence), users);
                await using var marked = SqlDatabase.Command(
                    connection,
                    """
                    INSERT INTO fraud_state_marks (journal, seq, users) VALUES (@journal, @seq, @users)
                    ON CONFLICT (journal) DO UPDATE SET seq = excluded.seq, users = excluded.users
                    """,
                    ("journal", journal),
                    ("seq", next.Sequence),
                    ("users", next.Users));
                marked.Transaction = transaction;
                await marked.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return next;
            },
            cancellationToken,
            atomic: true).ConfigureAwait(false);
    }

    public async Task<long> CountWithAsync(string journal, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        if (database.IsPostgres)
        {
            // One statement: one snapshot of the mark and the rows.
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var count = SqlDatabase.Command(
                connection,
                """
                SELECT COALESCE((SELECT users FROM fraud_state_marks WHERE journal = @journal), 0) + cardinality(@ids)
                     - (SELECT COUNT(*) FROM fraud_user_state WHERE journal = @journal AND user_id = ANY(@ids))
                """,
                ("journal", journal),
                ("ids", userIds.ToArray()));
            return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        // One transaction that holds the file's write lock: no write lands between its reads.
        return await database.WriteAsync(
            async (connection, transaction) =>
            {
                var users = (await ReadMarkAsync(connection, transaction, journal, cancellationToken).ConfigureAwait(false)).Users + userIds.Count;
                foreach (var batch in userIds.Chunk(Batch))
                {
                    await using var read = SqliteIn(connection, journal, batch, "SELECT COUNT(*) FROM fraud_user_state");
                    read.Transaction = transaction;
                    users -= Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                }

                return users;
            },
            cancellationToken,
            atomic: true).ConfigureAwait(false);
    }

    public async Task ScanUserIdsAsync(string journal, Action<string> each, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var read = SqlDatabase.Command(connection, "SELECT user_id FROM fraud_user_state WHERE journal = @journal", ("journal", journal));
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            each(reader.GetString(0));
        }
    }

    public async Task<List<UserTimerDue>> TimersAsync(string journal, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        var timers = new List<UserTimerDue>();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var read = SqlDatabase.Command(connection, "SELECT user_id, next_timer_ms FROM fraud_user_state WHERE journal = @journal AND next_timer_ms IS NOT NULL", ("journal", journal));
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            timers.Add(new UserTimerDue(reader.GetString(0), reader.GetInt64(1)));
        }

        return timers;
    }

    public async Task<List<UserSnapshot>> AllAsync(string journal, CancellationToken cancellationToken)
    {
        await TablesAsync().ConfigureAwait(false);
        var users = new List<UserSnapshot>();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var read = SqlDatabase.Command(connection, "SELECT user_id, state FROM fraud_user_state WHERE journal = @journal", ("journal", journal));
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            users.Add(new UserSnapshot(reader.GetString(0), (byte[])reader.GetValue(1)));
        }

        return users;
    }

    private static async Task<StateMark> ReadMarkAsync(DbConnection connection, DbTransaction? transaction, string journal, CancellationToken cancellationToken)
    {
        await using var read = SqlDatabase.Command(connection, "SELECT seq, users FROM fraud_state_marks WHERE journal = @journal", ("journal", journal));
        read.Transaction = transaction;
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new StateMark(reader.GetInt64(0), reader.GetInt64(1)) : StateMark.None;
    }

    /// <summary>One statement a batch; returns how many of its users were new (<c>xmax = 0</c>: the row was inserted, not updated).</summary>
    private static async Task<long> UpsertPostgresAsync(DbConnection connection, DbTransaction? transaction, string journal, StoredState[] batch, CancellationToken cancellationToken)
    {
        await using var upsert = SqlDatabase.Command(
            connection,
            """
            INSERT INTO fraud_user_state (journal, user_id, seq, next_timer_ms, state)
            SELECT @journal, u.user_id, u.seq, u.next_timer_ms, u.state
            FROM unnest(@ids, @seqs, @timers, @states) AS u(user_id, seq, next_timer_ms, state)
            ON CONFLICT (journal, user_id) DO UPDATE
              SET seq = excluded.seq, next_timer_ms = excluded.next_timer_ms, state = excluded.state
              WHERE fraud_user_state.seq <= excluded.seq
            RETURNING (xmax = 0)
            """,
            ("journal", journal),
            ("ids", batch.Select(u => u.UserId).ToArray()),
            ("seqs", batch.Select(u => u.Sequence).ToArray()),
            ("timers", batch.Select(u => UserStateCodec.PeekNextTimer(u.State)).ToArray()),
            ("states", batch.Select(u => u.State).ToArray()));
        upsert.Transaction = transaction;
        await using var reader = await upsert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var inserted = 0L;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            inserted += reader.GetBoolean(0) ? 1 : 0;
        }

        return inserted;
    }

    private static async Task<long> UpsertSqliteAsync(DbConnection connection, DbTransaction? transaction, string journal, StoredState[] batch, CancellationToken cancellationToken)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = SqliteIn(connection, journal, [.. batch.Select(u => u.UserId)], "SELECT user_id FROM fraud_user_state"))
        {
            read.Transaction = transaction;
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                existing.Add(reader.GetString(0));
            }
        }

        await using var upsert = SqlDatabase.Command(
            connection,
            """
            INSERT INTO fraud_user_state (journal, user_id, seq, next_timer_ms, state) VALUES (@journal, @id, @seq, @timer, @state)
            ON CONFLICT (journal, user_id) DO UPDATE
              SET seq = excluded.seq, next_timer_ms = excluded.next_timer_ms, state = excluded.state
              WHERE fraud_user_state.seq <= excluded.seq
            """,
            ("journal", journal),
            ("id", string.Empty),
            ("seq", 0L),
            ("timer", DBNull.Value),
            ("state", Array.Empty<byte>()));
        upsert.Transaction = transaction;
        foreach (var user in batch)
        {
            upsert.Parameters["id"].Value = user.UserId;
            upsert.Parameters["seq"].Value = user.Sequence;
            upsert.Parameters["timer"].Value = UserStateCodec.PeekNextTimer(user.State) is { } next ? next : DBNull.Value;
            upsert.Parameters["state"].Value = user.State;
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return batch.Count(u => !existing.Contains(u.UserId));
    }

    private static DbCommand SqliteIn(DbConnection connection, string journal, string[] userIds, string select = "SELECT user_id, state FROM fraud_user_state")
    {
        var names = userIds.Select((_, i) => "@u" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var parameters = userIds.Select((id, i) => (names[i], (object)id)).Prepend(("journal", journal)).ToArray();
        return SqlDatabase.Command(connection, $"{select} WHERE journal = @journal AND user_id IN ({string.Join(", ", names)})", parameters);
    }

    /// <summary>The tables, created once per process (again after a failure: the database may have been away).</summary>
    private Task TablesAsync()
    {
        lock (_gate)
        {
            if (_tables is null || _tables.IsFaulted || _tables.IsCanceled)
            {
                _tables = CreateTablesAsync(database);
            }

            return _tables;
        }
    }

    private static async Task CreateTablesAsync(SqlDatabase database)
    {
        var blob = database.IsPostgres ? "BYTEA" : "BLOB";
        string[] statements =
        [
            $"""
            CREATE TABLE IF NOT EXISTS fraud_user_state (
                journal TEXT NOT NULL,
                user_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                next_timer_ms BIGINT NULL,
                state {blob} NOT NULL,
                PRIMARY KEY (journal, user_id))
            """,
            "CREATE INDEX IF NOT EXISTS fraud_user_state_timers ON fraud_user_state (journal, next_timer_ms) WHERE next_timer_ms IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS fraud_state_marks (journal TEXT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, users BIGINT NOT NULL)",
        ];
        foreach (var sql in statements)
        {
            try
            {
                await database.ExecuteAsync(sql, CancellationToken.None).ConfigureAwait(false);
            }
            catch (DbException) when (database.IsPostgres)
            {
                // Two nodes creating the same table at once: PostgreSQL's IF NOT EXISTS can lose
                // that race with a unique violation in its catalog; the table is there now.
                await database.ExecuteAsync(sql, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
