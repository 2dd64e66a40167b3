using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Drill;

/// <summary>
/// <c>fraud drill</c> as a user runs it, small: it starts its own PostgreSQL server, kills and
/// restarts the service (or, with <c>--nodes</c>, the nodes of a cluster), and proves the alerts,
/// the window results (on their topics and in their outbox table, every real window closed by the
/// flush records) and every user's transaction count.
/// </summary>
public sealed class DrillProcessTests
{
    [Fact]
    public async Task A_small_drill_passes_and_reports_no_difference()
    {
        var (code, drill) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(5), "drill", "--transactions", "6000", "--kills", "2", "--seed", "3");
        Assert.True(code == 0, string.Join('\n', drill.StandardOutput) + drill.StandardErrorTail());
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("DRILL PASSED: 2 kills", StringComparison.Ordinal));
        Assert.Equal(2, drill.StandardOutput.Count(l => l.Contains("SIGKILL", StringComparison.Ordinal)));
        Assert.Contains(drill.StandardOutput, l => l.Contains("a PostgreSQL server of its own", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("alerts topic:", StringComparison.Ordinal) && l.EndsWith("duplicates 0, missing 0, extra 0", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("alerts table:", StringComparison.Ordinal) && l.EndsWith("duplicates 0, missing 0, extra 0", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.Contains("then a flush record to each of its 3 partitions", StringComparison.Ordinal));
        Assert.DoesNotContain(drill.StandardOutput, l => l.StartsWith("window result topics: expected 0,", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("window result topics:", StringComparison.Ordinal) && l.EndsWith("duplicates 0, missing 0, extra 0, wrong 0", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("window result table:", StringComparison.Ordinal) && l.EndsWith("duplicates 0, missing 0, extra 0, unpublished 0", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("DRILL PASSED:", StringComparison.Ordinal) && l.Contains(" window results, none duplicated, none missing, none wrong;", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("user state:", StringComparison.Ordinal) && l.EndsWith("transaction counts differing 0", StringComparison.Ordinal));

        // Where each restart resumed: the second run from the journals the first one committed.
        Assert.Contains(drill.StandardOutput, l => l.Contains("run 2: Partition", StringComparison.Ordinal) && l.Contains("resuming at offset", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_small_sqlite_drill_with_hostile_records_mixed_in_passes_counting_only_the_valid_ones()
    {
        var (code, drill) = await FraudProcess.RunAsync(
            TimeSpan.FromMinutes(5), "drill", "--store", "sqlite", "--transactions", "6000", "--kills", "2", "--seed", "5", "--hostile-share", "0.1");
        Assert.True(code == 0, string.Join('\n', drill.StandardOutput) + drill.StandardErrorTail());
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("DRILL PASSED: 2 kills", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.Contains("6000 transactions on the topic and ", StringComparison.Ordinal) && l.Contains(" of them odd but valid), then a flush record", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("alerts table:", StringComparison.Ordinal) && l.EndsWith("duplicates 0, missing 0, extra 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_small_three_node_drill_kills_leaves_joins_and_freezes_moves_partitions_and_passes()
    {
        var (code, drill) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(8), "drill", "--nodes", "3", "--transactions", "3000", "--events", "4", "--seed", "3");
        Assert.True(code == 0, string.Join('\n', drill.StandardOutput) + drill.StandardErrorTail());
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("DRILL PASSED: 3 nodes, 4 events (1 kill -9, 1 leave, 1 join, 1 freeze), ", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l == "frozen nodes: 1 expected to exit 1 when thawed, 0 did not");
        Assert.Contains(drill.StandardOutput, l => l.Contains("then a flush record to each of its 6 partitions", StringComparison.Ordinal));
        Assert.Contains(drill.StandardOutput, l => l == "graceful stops: 4 expected to exit 0, 0 did not");
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("drill:   partition ", StringComparison.Ordinal) && l.Contains(" -> ", StringComparison.Ordinal) && l.Contains("resumed at offset", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--nodes must be between 1 and 5", "--nodes", "6")]
    [InlineData("--nodes above 1 needs --store postgres", "--nodes", "2", "--store", "sqlite")]
    public async Task Bad_cluster_options_exit_with_2_naming_them(string said, params string[] options)
    {
        var (code, drill) = await FraudProcess.RunAsync(TimeSpan.FromSeconds(60), ["drill", .. options]);
        Assert.Equal(2, code);
        Assert.Contains(said, drill.StandardError, StringComparison.Ordinal);
    }
}
