using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FraudActors.Engine.Storage;

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
    private readonly SqliteAccess? _sqlite;
    private readonly SemaphoreSlim? _writer;

    private SqlDatabase(Func<DbConnection> connect, bool isPostgres, SqliteAccess? sqlite = null, SemaphoreSlim? writer = null)
    {
        _connect = connect;
        IsPostgres = isPostgres;
        _sqlite = sqlite;
        _writer = writer;
    }

    public bool IsPostgres { get; }

    public static SqlDatabase PostgreSql(string connectionString)
    {
        var source = PostgresSources.GetOrAdd(connectionString, cs => new Lazy<NpgsqlDataSource>(() => NpgsqlDataSource.Create(cs))).Value;
        return new(source.CreateConnection, isPostgres: true);
    }

    /// <param name="access">How the file is shared; <see cref="SqliteAccess.Service"/> unless a test compares.</param>
    public static SqlDatabase Sqlite(string connectionString, SqliteAccess? access = null)
    {
        access ??= SqliteAccess.Service;

        // Parsed now, so a malformed string fails at start, as Npgsql's does.
        var tuned = access.ConnectionString(connectionString);
        return new(() => new SqliteConnection(tuned), isPostgres: false, access, access.Writer(connectionString));
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
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (_sqlite is not null)
            {
                await _sqlite.ConfigureAsync((SqliteConnection)connection, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>
    /// Runs <paramref name="write"/> as one write. On SQLite it waits its turn behind the
    /// process's other writes to the file and runs in a transaction that takes the write lock as
    /// it begins (<c>BEGIN IMMEDIATE</c>): a lock is never upgraded half-way, where SQLite would
    /// answer "busy" without waiting. Commands must be given the transaction: null where each
    /// statement stands alone (PostgreSQL, unless <paramref name="atomic"/>).
    /// </summary>
    /// <param name="atomic">The statements must commit together, whatever the database.</param>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction?, Task<T>> write, CancellationToken cancellationToken, bool atomic = false)
    {
        if (_sqlite is null)
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = atomic ? await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false) : null;
            var result = await write(connection, transaction).ConfigureAwait(false);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            return result;
        }

        if (_writer is not null)
        {
            await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = _writer is not null || atomic ? ((SqliteConnection)connection).BeginTransaction(deferred: false) : null;
            var result = await write(connection, transaction).ConfigureAwait(false);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            return result;
        }
        finally
        {
            _writer?.Release();
        }
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

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters) =>
        WriteAsync(
            async (connection, transaction) =>
            {
                await using var command = Command(connection, sql, parameters);
                command.Transaction = transaction;
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);
}
