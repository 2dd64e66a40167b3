namespace FraudActors.Testing;

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

    public const string Variable = "FRAUD_TEST_POSTGRES";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } connection
            ? connection
            : throw new InvalidOperationException(
                $"{Variable} is not set: run the tests with ./scripts/test.sh, which starts a throwaway PostgreSQL and sets it");
}
