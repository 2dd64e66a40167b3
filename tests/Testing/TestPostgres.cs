namespace FraudActors.Testing;

/// <summary>
/// The PostgreSQL the tests run against: the one the README's test command starts
/// (scripts/test.sh exports its connection string as FRAUD_TEST_POSTGRES).
/// </summary>
public static class TestPostgres
{
    public const string Variable = "FRAUD_TEST_POSTGRES";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } connection
            ? connection
            : throw new InvalidOperationException(
                $"{Variable} is not set: run the tests with ./scripts/test.sh, which starts a throwaway PostgreSQL and sets it");
}
