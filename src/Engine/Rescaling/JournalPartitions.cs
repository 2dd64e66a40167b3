using System.Data.Common;
using System.Globalization;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Rescaling;

/// <summary>
/// Which partition journals of a topic a SQL store holds, read from the journal table's
/// persistence ids (<c>partition-&lt;topic&gt;-&lt;p&gt;</c>): how many partitions the job had.
/// The table and column are the ones the persistence plugin is configured with.
/// </summary>
public static class JournalPartitions
{
    /// <summary>The partitions with a journal in the store, ascending (empty when there is no journal table yet).</summary>
    public static async Task<List<int>> FindAsync(string store, string connection, string topic, CancellationToken cancellationToken)
    {
        var config = JournalStore.Config(store, connection);
        var mapping = config.GetString("akka.persistence.journal.sql.table-mapping");
        var tables = $"akka.persistence.journal.sql.{mapping}";
        var schema = config.GetString($"{tables}.schema-name");
        var table = (string.IsNullOrEmpty(schema) ? string.Empty : schema + ".") + config.GetString($"{tables}.journal.table-name");
        var column = config.GetString($"{tables}.journal.columns.persistence-id");
        var database = store == JournalStore.Postgres ? SqlDatabase.PostgreSql(connection) : SqlDatabase.Sqlite(connection);
        var prefix = PartitionJournal.PersistenceIdFor(topic, 0)[..^1];

        await using var open = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var partitions = new SortedSet<int>();
        if (!await TableExistsAsync(open, database.IsPostgres, table, cancellationToken).ConfigureAwait(false))
        {
            // No journal table: no node ever ran on this database.
            return [];
        }

        // LIKE narrows the scan; the exact prefix and a number after it decide (a topic's name may hold '_' or '%').
        await using var query = SqlDatabase.Command(open, $"SELECT DISTINCT {column} FROM {table} WHERE {column} LIKE @prefix", ("prefix", prefix + "%"));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var id = reader.GetString(0);
            if (id.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(id.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
            {
                partitions.Add(partition);
            }
        }

        return [.. partitions];
    }

    private static async Task<bool> TableExistsAsync(DbConnection connection, bool postgres, string table, CancellationToken cancellationToken)
    {
        await using var exists = SqlDatabase.Command(
            connection,
            postgres ? "SELECT to_regclass(@table) IS NOT NULL" : "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = @table",
            ("table", table));
        return Convert.ToBoolean(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}
