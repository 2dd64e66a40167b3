using FraudActors.Testing;

namespace FraudActors.FraudService.Tests.EndToEnd;

/// <summary><c>fraud drill</c> as a user runs it, small: it kills and restarts the service and proves the alerts.</summary>
public sealed class DrillProcessTests
{
    [Fact]
    public async Task A_small_drill_passes_and_reports_no_difference()
    {
        var (code, drill) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(5), "drill", "--transactions", "6000", "--kills", "2", "--seed", "3");
        Assert.True(code == 0, string.Join('\n', drill.StandardOutput) + drill.StandardErrorTail());
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("DRILL PASSED: 2 kills", StringComparison.Ordinal));
        Assert.Equal(2, drill.StandardOutput.Count(l => l.Contains("SIGKILL", StringComparison.Ordinal)));
        Assert.Contains(drill.StandardOutput, l => l.StartsWith("alerts topic:", StringComparison.Ordinal) && l.EndsWith("duplicates 0, missing 0, extra 0", StringComparison.Ordinal));
    }
}
