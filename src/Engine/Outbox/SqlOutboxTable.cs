using System.Data.Common;
using System.Text.RegularExpressions;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Outbox;

/// <summary>
/// The queries every outbox table answers alike — unpublished rows in insertion order, marking
/// published, counting, listing ids — over a table with <c>seq</c>, a unique id column and a
/// <c>published</c> flag. Each store keeps its own DDL and insert.
/// </summary>
/// <remarks>
/// The table and id column are written into the SQL, so they must be constants chosen in code
/// (checked to be plain identifiers); every value goes in as a parameter.
/// </remarks>
public sealed partial class SqlOutboxTable
{
    // Keeps each UPDATE well under SQLite's and PostgreSQL's limits on parameters per statement.
    private const int MarkBatch = 500;

    private readonly SqlDatabase _database;
    private readonly string _table;
    private readonly string _idColumn;

    public SqlOutboxTable(SqlDatabase database, string table, string idColumn)
    {
        _database = database;
        _table = Identifier(table, nameof(table));
        _idColumn = Identifier(idColumn, nameof(idColumn));
    }

    /// <summary>
    /// Inserts <paramref name="rows"/> in their order, a few hundred per statement, skipping ids
    /// the table already holds; returns the ids that were new. One statement (and one round trip)
    /// for all the rows a group of records raised, instead of one each.
    /// </summary>
    /// <param name="columns">The id column first, then the others, as the store's insert names them; each row's values in that order.</param>
    public async Task<HashSet<string>> InsertNewAsync(IReadOnlyList<string> columns, IReadOnlyList<object[]> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var names = string.Join(", ", columns.Select(c => Identifier(c, nameof(columns))));
        return await _database.WriteAsync(
            async (connection, transaction) =>
            {
                var inserted = new HashSet<string>(StringComparer.Ordinal);
                foreach (var chunk in rows.Chunk(MarkBatch / columns.Count))
                {
                    var values = string.Join(", ", chunk.Select((_, r) => "(" + string.Join(", ", columns.Select((_, c) => $"@p{r}_{c}")) + ")"));
                    var parameters = chunk.SelectMany((row, r) => row.Select((value, c) => ($"p{r}_{c}", value))).ToArray();
                    await using var command = SqlDatabase.Command(
                        connection,
                        $"INSERT INTO {_table} ({names}) VALUES {values} ON CONFLICT ({_idColumn}) DO NOTHING RETURNING {_idColumn}",
                        parameters);
                    command.Transaction = transaction;
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        inserted.Add(reader.GetString(0));
                    }
                }

                return inserted;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The oldest unpublished rows, in <c>seq</c> order, as <paramref name="read"/> makes them from <paramref name="columns"/>.</summary>
    /// <param name="columns">The select list, written by the store (e.g. <c>"seq, alert_id, user_id, payload"</c>).</param>
    public async Task<IReadOnlyList<T>> UnpublishedAsync<T>(string columns, int limit, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(
            connection,
            $"SELECT {columns} FROM {_table} WHERE published = @no ORDER BY seq LIMIT @limit",
            ("no", false),
            ("limit", limit));
        return await ReadAllAsync(command, read, cancellationToken).ConfigureAwait(false);
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
                foreach (var batch in ids.Chunk(MarkBatch))
                {
                    var names = batch.Select((_, i) => $"@id{i}").ToList();
                    await using var command = SqlDatabase.Command(
                        connection,
                        $"UPDATE {_table} SET published = @yes WHERE {_idColumn} IN ({string.Join(", ", names)})",
                        [("yes", true), .. batch.Select((id, i) => ($"id{i}", (object)id))]);
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                return ids.Count;
            },
            cancellationToken,
            atomic: true).ConfigureAwait(false);
    }

    /// <summary>How many rows the table holds, and how many of them are published.</summary>
    public async Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, $"SELECT COUNT(*), COUNT(CASE WHEN published = @yes THEN 1 END) FROM {_table}", ("yes", true));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Every id in the table, published or not, in insertion order.</summary>
    public async Task<IReadOnlyList<string>> IdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(connection, $"SELECT {_idColumn} FROM {_table} ORDER BY seq");
        return await ReadAllAsync(command, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static string Identifier(string name, string parameter) =>
        PlainIdentifier().IsMatch(name) ? name : throw new ArgumentException($"'{name}' is not a plain SQL identifier", parameter);

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex PlainIdentifier();
}
