using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FraudActors.Actors.Storage;

/// <summary>
/// The service's own tables (alerts, checkpoint history) live in the database that holds the
/// partition journals: PostgreSQL in production, SQLite embedded. Plain ADO.NET, one dialect flag.
/// </summary>
public sealed class SqlDatabase
{
    /// <summary>
    /// One data source (one pool) per PostgreSQL connection string, shared by every table of the
    /// process, so that <see cref="ClearPostgresPools"/> reaches all of their idle connections.
    /// </summary>
    private static readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> PostgresSources = new(StringComparer.Ordinal);

    private readonly Func<DbConnection> _connect;

    private SqlDatabase(Func<DbConnection> connect, bool isPostgres)
    {
        _connect = connect;
        IsPostgres = isPostgres;
    }

    public bool IsPostgres { get; }

    public static SqlDatabase PostgreSql(string connectionString)
    {
        var source = PostgresSources.GetOrAdd(connectionString, cs => new Lazy<NpgsqlDataSource>(() => NpgsqlDataSource.Create(cs))).Value;
        return new(source.CreateConnection, isPostgres: true);
    }

    public static SqlDatabase Sqlite(string connectionString)
    {
        // Parsed now, so a malformed string fails at start, as Npgsql's does.
        _ = new SqliteConnectionStringBuilder(connectionString);
        return new(() => new SqliteConnection(connectionString), isPostgres: false);
    }

    /// <summary>Drops the idle connections of the tables' PostgreSQL pools; those in use are dropped when returned.</summary>
    internal static void ClearPostgresPools()
    {
        foreach (var source in PostgresSources.Values.Where(s => s.IsValueCreated))
        {
            source.Value.Clear();
        }
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = _connect();
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
