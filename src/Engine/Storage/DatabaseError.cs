using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FraudActors.Engine.Storage;

/// <summary>
/// One log line's worth of a storage failure, naming the database: "PostgreSQL: Failed to
/// connect to 127.0.0.1:5432" rather than a stack trace whose first lines are about transactions
/// and streams. Only the drivers' messages are used: they name the host and port, never the
/// connection string or its password.
/// </summary>
public static class DatabaseError
{
    /// <summary>The database and its error, with the innermost cause (e.g. "Connection refused") when it adds something.</summary>
    public static string Describe(Exception e)
    {
        var database = Chain(e).OfType<DbException>().FirstOrDefault();
        var innermost = Chain(e).Last();
        var message = database?.Message ?? e.Message;
        if (innermost != database && innermost != e && !message.Contains(innermost.Message, StringComparison.Ordinal))
        {
            message += $" ({innermost.Message.TrimEnd('.')})";
        }

        return database switch
        {
            NpgsqlException => "PostgreSQL: " + message,
            SqliteException => "SQLite: " + message,
            _ => message,
        };
    }

    /// <summary>Whether the failure came from the database (anywhere in its causes).</summary>
    public static bool IsDatabase(Exception e) => Chain(e).Any(x => x is DbException);

    /// <summary>
    /// After a PostgreSQL failure, drops the idle connections of every pool of the process: the
    /// journals' (connection-string pools) and the service tables' (<see cref="SqlDatabase"/>'s
    /// data sources). When the server went away they are all dead, and each would fail one more
    /// write once it is back (Npgsql does not test a pooled connection before handing it out), so
    /// whichever part of the service finds the server gone clears them for all.
    /// </summary>
    public static void ClearPoolsAfter(Exception e)
    {
        if (Chain(e).Any(x => x is NpgsqlException))
        {
            NpgsqlConnection.ClearAllPools();
            SqlDatabase.ClearPostgresPools();
        }
    }

    /// <summary>The exception and its causes, depth first (an aggregate's every inner exception).</summary>
    internal static IEnumerable<Exception> Chain(Exception e)
    {
        yield return e;
        var inner = e is AggregateException aggregate ? aggregate.InnerExceptions : e.InnerException is { } one ? [one] : (IEnumerable<Exception>)[];
        foreach (var cause in inner.SelectMany(Chain))
        {
            yield return cause;
        }
    }
}
