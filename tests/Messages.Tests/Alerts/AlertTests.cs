using FraudActors.Messages.Alerts;

namespace FraudActors.Messages.Tests.Alerts;

public sealed class AlertTests
{
    private static readonly Alert Sample = new(
        Alert.IdFor("sliding-velocity", 2, 41),
        "sliding-velocity",
        "u901",
        6,
        60_000,
        12.50m,
        new DateTimeOffset(2026, 3, 17, 9, 0, 5, 300, TimeSpan.Zero),
        2,
        41,
        new DateTimeOffset(2026, 3, 17, 9, 0, 6, 0, TimeSpan.Zero),
        "tx-17");

    [Fact]
    public void The_console_line_is_the_lectures()
    {
        Assert.Equal("ALERT user=u901 count=6 last_amount=12.5", Sample.ToConsoleLine());
        Assert.Equal("ALERT user=u901 count=6 last_amount=300", (Sample with { LastAmount = 300.00m }).ToConsoleLine());
    }

    [Fact]
    public void The_id_is_rule_partition_offset()
    {
        Assert.Equal("sliding-velocity:2:41", Sample.AlertId);
    }

    [Fact]
    public void Json_has_the_contract_fields_and_round_trips()
    {
        var json = System.Text.Encoding.UTF8.GetString(AlertJson.Serialize(Sample));
        foreach (var field in new[] { "alert_id", "rule", "user_id", "count", "window_ms", "last_amount", "tx_ts", "partition", "offset", "detected_at" })
        {
            Assert.Contains($"\"{field}\":", json, StringComparison.Ordinal);
        }

        Assert.Contains("\"last_amount\":12.5,", json, StringComparison.Ordinal);
        Assert.Equal(Sample with { LastAmount = 12.5m }, AlertJson.Deserialize(AlertJson.Serialize(Sample)));
    }

    [Fact]
    public void An_alert_carries_the_version_of_its_rule_and_one_written_before_versions_reads_as_version_0()
    {
        var versioned = Sample with { RuleVersion = 12 };
        Assert.Contains("\"rule_version\":12,", System.Text.Encoding.UTF8.GetString(AlertJson.Serialize(versioned)), StringComparison.Ordinal);
        Assert.Equal(12, AlertJson.Deserialize(AlertJson.Serialize(versioned)).RuleVersion);
        var before = """{"alert_id":"sliding-velocity:2:41","rule":"sliding-velocity","user_id":"u901","count":6,"window_ms":60000,"last_amount":12.5,"tx_ts":"2026-03-17T09:00:05.300Z","partition":2,"offset":41,"detected_at":"2026-03-17T09:00:06.000Z"}""";
        Assert.Equal(0, AlertJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(before)).RuleVersion);
    }

    [Fact]
    public void The_bytes_on_the_topic_are_the_contracts()
    {
        Assert.Equal(
            """{"alert_id":"sliding-velocity:2:41","rule":"sliding-velocity","rule_version":0,"user_id":"u901","count":6,"window_ms":60000,"last_amount":12.5,"tx_ts":"2026-03-17T09:00:05.300Z","partition":2,"offset":41,"detected_at":"2026-03-17T09:00:06.000Z","tx_id":"tx-17"}""",
            System.Text.Encoding.UTF8.GetString(AlertJson.Serialize(Sample)));
        Assert.DoesNotContain("tx_id", System.Text.Encoding.UTF8.GetString(AlertJson.Serialize(Sample with { TxId = null })), StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_something_else_is_a_format_error_naming_the_field()
    {
        var e = Assert.Throws<FormatException>(() => AlertJson.Deserialize("""{"alert_id":"x"}"""u8));
        Assert.Contains("rule", e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => AlertJson.Deserialize("nope"u8));
    }
}
