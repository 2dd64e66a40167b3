using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Pipeline;

/// <summary>The README's first command, as a new user runs it.</summary>
public sealed class DemoProcessTests
{
    [Fact]
    public async Task Demo_shows_alerts_for_u901_and_u902_within_a_minute_and_ctrl_c_stops_it_cleanly()
    {
        await using var demo = FraudProcess.Start("demo");
        var minute = TimeSpan.FromSeconds(60);
        await demo.WaitForOutputAsync(l => l.StartsWith("ALERT user=u901 count=", StringComparison.Ordinal), minute);
        await demo.WaitForOutputAsync(l => l.StartsWith("ALERT user=u902 count=", StringComparison.Ordinal), minute);
        // Only the bursting users' lines: their alerts, and their windows when a 5-minute window
        // closes during the run (the demo's event time is the wall clock).
        Assert.All(demo.StandardOutput, l => Assert.Matches(@"^(ALERT user=u90[12] count=\d+ last_amount=\d+(\.\d+)?|WINDOW \S+ user=u90[12] .+)$", l));

        demo.Interrupt();
        Assert.Equal(0, await demo.WaitForExitAsync(minute));
        Assert.Contains("stopped cleanly", demo.StandardError, StringComparison.Ordinal);
    }
}
