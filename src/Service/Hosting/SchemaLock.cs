using Npgsql;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Serializes the creation of the service's tables across the processes of one PostgreSQL
/// database: <c>CREATE TABLE IF NOT EXISTS</c> run by two nodes at the same moment can fail in
/// one of them (a unique violation in PostgreSQL's catalog), which nodes that start together —
/// as store discovery lets them — would otherwise meet on a new database. A session advisory
/// lock, released when disposed (or when the connection ends with the process).
/// </summary>
internal sealed class SchemaLock : IAsyncDisposable
{
    private const string Key = "hashtext('fraud-schema')";
    private readonly NpgsqlConnection _connection;

    private SchemaLock(NpgsqlConnection connection) => _connection = connection;

    public static async Task<SchemaLock> TakeAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var take = new NpgsqlCommand($"SELECT pg_advisory_lock({Key})", connection);
            await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new SchemaLock(connection);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({Key})", _connection);
            await release.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // Closing the session releases it as well.
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
