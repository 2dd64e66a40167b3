using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace FraudActors.Engine.Storage;

/// <summary>
/// How the service shares one SQLite file between the partition journals (Akka.Persistence.Sql,
/// its own connection pool) and its tables (alerts, window results, checkpoint history).
/// </summary>
/// <remarks>
/// SQLite's and Microsoft.Data.Sqlite's defaults fail under the service's load: in the rollback
/// journal a commit waits for every reader to finish, no busy handler is installed, and the
/// commit of an <c>INSERT … RETURNING</c> happens while its rows are read, where
/// Microsoft.Data.Sqlite does not retry, so an alert insert failed at once with "database is
/// locked" whenever the outbox or a recovery was reading.
/// </remarks>
/// <param name="WriteAheadLog">Put the file in WAL mode: readers and the writer no longer block each other.</param>
/// <param name="BusyTimeout">How long a connection waits for the write lock (SQLite's busy handler, and Microsoft.Data.Sqlite's retries) before "database is locked"; zero: not at all.</param>
/// <param name="OneWriter">The service's own writes to a file go one at a time, each a transaction that takes the write lock when it begins.</param>
public sealed record SqliteAccess(bool WriteAheadLog, TimeSpan BusyTimeout, bool OneWriter)
{
    /// <summary>
    /// What the service uses. The wait is as long as the journal's own call timeout: a checkpoint
    /// of many users is one long write that the others must be able to outwait.
    /// </summary>
    public static readonly SqliteAccess Service = new(WriteAheadLog: true, BusyTimeout: TimeSpan.FromSeconds(60), OneWriter: true);

    /// <summary>SQLite's and Microsoft.Data.Sqlite's defaults, untouched: what the service must not run on.</summary>
    public static readonly SqliteAccess Defaults = new(WriteAheadLog: false, BusyTimeout: TimeSpan.Zero, OneWriter: false);

    // Microsoft.Data.Sqlite's spellings of Default Timeout.
    private static readonly string[] TimeoutKeywords = ["Default Timeout", "DefaultTimeout", "Command Timeout"];

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Writers = new(StringComparer.Ordinal);

    /// <summary>
    /// The connection string with Microsoft.Data.Sqlite's <c>Default Timeout</c> set to the busy
    /// timeout (unless it names one): its commands retry a busy database that long. The only busy
    /// setting a connection string carries, so it is what the journal plugin's connections get.
    /// </summary>
    public string ConnectionString(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (BusyTimeout > TimeSpan.Zero && !TimeoutKeywords.Any(given.ContainsKey))
        {
            builder.DefaultTimeout = (int)Math.Ceiling(BusyTimeout.TotalSeconds);
        }

        return builder.ConnectionString;
    }

    /// <summary>Sets what a newly opened connection needs: its busy handler, and WAL mode for the file (kept in the file once set).</summary>
    public async Task ConfigureAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        if (BusyTimeout > TimeSpan.Zero)
        {
            await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(long)BusyTimeout.TotalMilliseconds}"), cancellationToken).ConfigureAwait(false);
        }

        if (WriteAheadLog && connection.DataSource is { Length: > 0 } file && file != ":memory:")
        {
            await ExecuteAsync(connection, "PRAGMA journal_mode = WAL", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The one writer of <paramref name="connectionString"/>'s file in this process; null when writes are not serialized.</summary>
    public SemaphoreSlim? Writer(string connectionString) =>
        OneWriter ? Writers.GetOrAdd(SqliteFaults.DatabaseFile(connectionString) ?? connectionString, _ => new SemaphoreSlim(1, 1)) : null;

    /// <summary>
    /// Opens <paramref name="connectionString"/>'s file once, so that it is in WAL mode before
    /// anything else (the journal plugin included) writes to it.
    /// </summary>
    public async Task PrepareFileAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(ConnectionString(connectionString));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ConfigureAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string pragma, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = pragma;
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
