using System.Text;
using FraudActors.Messages.Alerts;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cli;

/// <summary><c>fraud alerts</c>: the lecture's lines or raw JSON, and with a group it continues where it stopped.</summary>
public sealed class AlertsCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task With_a_group_a_second_run_continues_after_the_last_alert_printed()
    {
        await using var broker = FraudProcess.Start("broker", "--bootstrap-file", Path.GetTempFileName());
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var alerts = Enumerable.Range(0, 3)
            .Select(i => new Alert($"sliding-velocity:0:{i}", "sliding-velocity", "u901", 6 + i, 60_000, 12.5m + i, DateTimeOffset.UnixEpoch, 0, i, DateTimeOffset.UnixEpoch))
            .ToList();
        await KafkaTestTopics.ProduceToAsync(bootstrap, "alerts", alerts.Select(a => (0, a.UserId, Encoding.UTF8.GetString(AlertJson.Serialize(a)))));

        var (first, two) = await FraudProcess.RunAsync(Timeout, "alerts", "--bootstrap", bootstrap, "--from-beginning", "--group", "desk", "--limit", "2");
        Assert.True(first == 0, two.StandardErrorTail());
        Assert.Equal(["ALERT user=u901 count=6 last_amount=12.5", "ALERT user=u901 count=7 last_amount=13.5"], two.StandardOutput);

        var (second, one) = await FraudProcess.RunAsync(Timeout, "alerts", "--bootstrap", bootstrap, "--from-beginning", "--group", "desk", "--limit", "1", "--json");
        Assert.True(second == 0, one.StandardErrorTail());
        Assert.Equal("sliding-velocity:0:2", AlertJson.Deserialize(Encoding.UTF8.GetBytes(Assert.Single(one.StandardOutput))).AlertId);
    }
}
