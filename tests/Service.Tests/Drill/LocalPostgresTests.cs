using FraudActors.Tooling.Drill;

namespace FraudActors.Service.Tests.Drill;

/// <summary>Which store the drill and the bench run on when the user did not choose one.</summary>
public sealed class LocalPostgresTests
{
    [Theory]
    [InlineData(true, false, null, "postgres")]
    [InlineData(false, true, null, "postgres")]
    [InlineData(false, false, "Host=db;Database=drill", "postgres")]
    [InlineData(false, false, null, "sqlite")]
    public void PostgreSQL_is_kept_where_it_can_run_and_sqlite_taken_with_a_word_where_it_cannot(bool installed, bool chosen, string? connection, string expected)
    {
        var said = new List<string>();
        Assert.Equal(expected, LocalPostgres.ChooseStore("postgres", chosen, connection, said.Add, installed));
        Assert.Equal(expected == "sqlite" ? 1 : 0, said.Count);
        Assert.All(said, line => Assert.Contains("apt-get install postgresql", line, StringComparison.Ordinal));
    }

    [Fact]
    public void Sqlite_chosen_stays_sqlite()
    {
        Assert.Equal("sqlite", LocalPostgres.ChooseStore("sqlite", chosen: true, null, _ => Assert.Fail("nothing to say"), installed: true));
    }
}
