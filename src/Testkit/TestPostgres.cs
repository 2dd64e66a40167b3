namespace FraudActors.Testkit;

/// <summary>
/// The PostgreSQL the tests run against: the one the README's test command starts
/// (scripts/test.sh exports its connection string as FRAUD_TEST_POSTGRES).
/// </summary>
public static class TestPostgres
{
    /// <summary>Creates a database of its own for a test and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 60)];
        await using (var connection = new Npgsql.NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Every row of a node's alerts table: its id and whether the outbox published it.</summary>
    public static async Task<List<(string Id, bool Published)>> AlertRowsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new Npgsql.NpgsqlCommand("SELECT alert_id, published FROM alerts", connection);
        await using var reader = await query.ExecuteReaderAsync();
        var rows = new List<(string, bool)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetBoolean(1)));
        }

        return rows;
    }

    public const string Variable = "FRAUD_TEST_POSTGRES";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } connection
            ? connection
            : throw new InvalidOperationException(
                $"{Variable} is not set: run the tests with ./scripts/test.sh, which starts a throwaway PostgreSQL and sets it");
}
