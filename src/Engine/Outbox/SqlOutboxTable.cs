using System.Data.Common;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Outbox;

/// <summary>
/// An outbox table on PostgreSQL (production) or SQLite (the embedded default), through plain
/// ADO.NET, of the shape its codec names (<see cref="OutboxTableShape"/>): inserts skip ids the
/// table holds, unpublished rows come out in insertion order, marking, counting, listing ids.
/// </summary>
/// <remarks>
/// The table and column names are written into the SQL, so they are constants chosen in code,
/// checked to be plain identifiers; every value goes in as a parameter.
/// </remarks>
public sealed class SqlOutboxTable<T> : IOutboxTable<T>
{
    // Keeps each statement well under SQLite's and PostgreSQL's limits on parameters per statement.
    private const int MaxParameters = 500;

    private readonly SqlDatabase _database;
    private readonly string _createTable;
    private readonly string _table;
    private readonly string _id;
    private readonly IReadOnlyList<string> _insertColumns;
    private readonly string _rowColumns;

    private SqlOutboxTable(SqlDatabase database, OutboxCodec<T> codec, bool postgres)
    {
        var shape = codec.Table;
        _database = database;
        Codec = codec;
        _table = Identifier(shape.Name, nameof(codec));
        _id = Identifier(shape.IdColumn, nameof(codec));
        IEnumerable<string> topic = shape.TopicColumn ? ["topic"] : [];
        List<string> text = [.. shape.Columns.Select(c => Identifier(c, nameof(codec))), "user_id", .. topic];
        _insertColumns = [_id, .. text, "payload"];
        _rowColumns = shape.TopicColumn ? $"seq, {_id}, user_id, payload, topic" : $"seq, {_id}, user_id, payload";
        var columns = string.Join(",\n", [$"    {_id} TEXT NOT NULL UNIQUE", .. text.Select(c => $"    {c} TEXT NOT NULL")]);
        _createTable = postgres
            ? $"""
                CREATE TABLE IF NOT EXISTS {_table} (
                    seq BIGSERIAL PRIMARY KEY,
                {columns},
                    payload BYTEA NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    published BOOLEAN NOT NULL DEFAULT FALSE);
                CREATE INDEX IF NOT EXISTS {_table}_unpublished ON {_table} (seq) WHERE NOT published;
                """
            : $"""
                CREATE TABLE IF NOT EXISTS {_table} (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                {columns},
                    payload BLOB NOT NULL,
                    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
                    published INTEGER NOT NULL DEFAULT 0);
                """;
    }

    public OutboxCodec<T> Codec { get; }

    public static SqlOutboxTable<T> PostgreSql(string connectionString, OutboxCodec<T> codec) =>
        new(SqlDatabase.PostgreSql(connectionString), codec, postgres: true);

    public static SqlOutboxTable<T> Sqlite(string connectionString, OutboxCodec<T> codec, SqliteAccess? access = null) =>
        new(SqlDatabase.Sqlite(connectionString, access), codec, postgres: false);

    /// <summary>Creates the table if it does not exist (an existing one is used as it is).</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => _database.ExecuteAsync(_createTable, cancellationToken);

    /// <summary>
    /// Inserts the records in their order, a few hundred per statement, skipping ids the table
    /// already holds: one statement (and one round trip) for all a group of records raised.
    /// </summary>
    public async Task<IReadOnlyList<T>> AddRangeAsync(IReadOnlyList<T> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return [];
        }

        var rows = records.Select(r => (Record: r, Row: Codec.Encode(r))).ToList();
        var names = string.Join(", ", _insertColumns);
        var inserted = await _database.WriteAsync(
            async (connection, transaction) =>
            {
                var ids = new HashSet<string>(StringComparer.Ordinal);
                foreach (var chunk in rows.Chunk(MaxParameters / _insertColumns.Count))
                {
                    var values = string.Join(", ", chunk.Select((_, r) => "(" + string.Join(", ", _insertColumns.Select((_, c) => $"@p{r}_{c}")) + ")"));
                    var parameters = chunk.SelectMany((row, r) => Values(row.Row).Select((value, c) => ($"p{r}_{c}", value))).ToArray();
                    await using var command = SqlDatabase.Command(
                        connection,
                        $"INSERT INTO {_table} ({names}) VALUES {values} ON CONFLICT ({_id}) DO NOTHING RETURNING {_id}",
                        parameters);
                    command.Transaction = transaction;
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        ids.Add(reader.GetString(0));
                    }
                }

                return ids;
            },
            cancellationToken).ConfigureAwait(false);

        // A replayed record's output may come twice in one group: counted new once.
        return [.. rows.Where(r => inserted.Remove(r.Row.Id)).Select(r => r.Record)];
    }

    /// <summary>The oldest unpublished rows, in <c>seq</c> order.</summary>
    public async Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(
            connection,
            $"SELECT {_rowColumns} FROM {_table} WHERE published = @no ORDER BY seq LIMIT @limit",
            ("no", false),
            ("limit", limit));
        return await ReadAllAsync(
            command,
            reader => new OutboxRow(
                reader.GetInt64(0),
                reader.GetString(1),
                Codec.Table.TopicColumn ? reader.GetString(4) : Codec.OnlyTopic,
                reader.GetString(2),
                (byte[])reader.GetValue(3)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks the rows with these ids published, in one transaction; ids the table does not hold are ignored.</summary>
    public async Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await _database.WriteAsync(
            async (connection, transaction) =>
            {
                foreach (var batch in ids.Chunk(MaxParameters))
                {
                    var names = batch.Select((_, i) => $"@id{i}").ToList();
                    await using var command = SqlDatabase.Command(
                        connection,
                        $"UPDATE {_table} SET published = @yes WHERE {_id} IN ({string.Join(", ", names)})",
                        [("yes", true), .. batch.Select((id, i) => ($"id{i}", (object)id))]);
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                return ids.Count;
            },
            cancellationToken,
            atomic: true).ConfigureAwait(false);
    }

    public async Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, $"SELECT COUNT(*), COUNT(CASE WHEN published = @yes THEN 1 END) FROM {_table}", ("yes", true));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<IReadOnlyList<string>> IdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, $"SELECT {_id} FROM {_table} ORDER BY seq");
        return await ReadAllAsync(command, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The row's values in the order of <see cref="_insertColumns"/>: id, further columns, key, topic where kept, payload.</summary>
    private object[] Values(OutboxRecord row)
    {
        IEnumerable<object> topic = Codec.Table.TopicColumn ? [row.Topic] : [];
        return [row.Id, .. row.Columns, row.Key, .. topic, row.Payload];
    }

    private static string Identifier(string name, string parameter) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
            ? name
            : throw new ArgumentException($"'{name}' is not a plain SQL identifier", parameter);

    private static async Task<IReadOnlyList<TRow>> ReadAllAsync<TRow>(DbCommand command, Func<DbDataReader, TRow> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<TRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
