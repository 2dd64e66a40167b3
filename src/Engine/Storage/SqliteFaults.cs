using Microsoft.Data.Sqlite;

namespace FraudActors.Engine.Storage;

/// <summary>
/// A store the service cannot write: no retry makes it writable again, so the process stops with
/// this message (naming the database file and the cause) and a non-zero exit.
/// </summary>
public sealed class StoreFaultException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Tells the SQLite errors that mean "this database cannot be written here" — the disk is full,
/// or the file or its directory is not writable by this process — from passing ones (busy,
/// locked), and says which in words an operator acts on.
/// </summary>
public static class SqliteFaults
{
    // Primary result codes (https://www.sqlite.org/rescode.html).
    private const int Perm = 3;
    private const int ReadOnly = 8;
    private const int Full = 13;
    private const int CantOpen = 14;
    private const int Auth = 23;

    /// <summary>The database file a connection string names, as a full path (null for in-memory databases).</summary>
    public static string? DatabaseFile(string connectionString)
    {
        try
        {
            var builder = new SqliteConnectionStringBuilder(connectionString);
            return string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory
                ? null
                : Path.GetFullPath(builder.DataSource);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The operator's message when <paramref name="error"/> (or an exception inside it) is such a fault; else null.</summary>
    public static string? Describe(string connectionString, Exception error)
    {
        return DatabaseError.Chain(error).OfType<SqliteException>()
            .Select(sqlite => Describe(connectionString, sqlite.SqliteErrorCode, sqlite.Message.TrimEnd('.')))
            .FirstOrDefault(fault => fault is not null);
    }

    /// <summary>
    /// The same from a log line that carries only an exception's message: Microsoft.Data.Sqlite
    /// writes every error as <c>SQLite Error N: '…'</c>.
    /// </summary>
    public static string? DescribeText(string connectionString, string text)
    {
        const string marker = "SQLite Error ";
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var digits = new string([.. text[(at + marker.Length)..].TakeWhile(char.IsAsciiDigit)]);
        var end = text.IndexOf('\'', text.IndexOf('\'', at) + 1);
        var message = end > at ? text[at..(end + 1)] : text[at..];
        return int.TryParse(digits, System.Globalization.CultureInfo.InvariantCulture, out var code) ? Describe(connectionString, code, message) : null;
    }

    private static string? Describe(string connectionString, int code, string sqliteMessage)
    {
        var file = DatabaseFile(connectionString) ?? connectionString;
        var cause = code switch
        {
            Full => $"disk full: no space left for its writes on the filesystem that holds it ({sqliteMessage}); free space there, then restart: the node resumes from its last checkpoint",
            ReadOnly or Perm or CantOpen or Auth => $"{AccessCause(file) ?? (code == CantOpen ? "it cannot be opened" : "it is read-only")} ({sqliteMessage}); give the service's user write access to the file and its directory, then restart",
            _ => null,
        };
        return cause is null ? null : $"the SQLite database '{file}' cannot be written: {cause}";
    }

    /// <summary>Why the file cannot be written, found by trying as SQLite would: the file read-write, a new file (its journal) beside it.</summary>
    private static string? AccessCause(string file)
    {
        var directory = Path.GetDirectoryName(file);
        if (string.IsNullOrEmpty(directory))
        {
            return null;
        }

        if (!Directory.Exists(directory))
        {
            return $"its directory '{directory}' does not exist";
        }

        try
        {
            if (File.Exists(file))
            {
                using var _ = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
        }
        catch (UnauthorizedAccessException)
        {
            return "permission denied: the file is not writable by this process";
        }
        catch (IOException)
        {
            return null;
        }

        try
        {
            using var _ = new FileStream(Path.Combine(directory, $".fraud-write-check-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (UnauthorizedAccessException)
        {
            return $"permission denied: its directory '{directory}' is not writable by this process (SQLite creates its journal there)";
        }
        catch (IOException)
        {
            return null;
        }

        return null;
    }

    /// <summary>
    /// Writes once to the database (a row of its own small table) so that a file or directory the
    /// process cannot write, or a full disk, is found at start rather than at the first checkpoint.
    /// A failure is SQLite's own; the caller turns it into the operator's message with
    /// <see cref="Describe(string, Exception)"/>, as it does for the tables' creation.
    /// </summary>
    public static async Task CheckWritableAsync(string connectionString, CancellationToken cancellationToken)
    {
        var database = SqlDatabase.Sqlite(connectionString);
        await database.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS store_check (id INTEGER PRIMARY KEY, checked_at TEXT NOT NULL)",
            cancellationToken).ConfigureAwait(false);
        await database.ExecuteAsync(
            "INSERT INTO store_check (id, checked_at) VALUES (1, @at) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            cancellationToken,
            ("at", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture))).ConfigureAwait(false);
    }
}
