using System.Text;
using FraudActors.Engine.Rules;
using FraudActors.Service.Rules;

namespace FraudActors.Service.Tests.Rules;

/// <summary>
/// The rules topic read whole as <c>fraud rules list --bootstrap</c> prints it: records over the
/// configured rules in offset order, each valid one giving its rule the version offset + 1, a
/// tombstone returning the rule to its configuration, and an invalid record changing nothing.
/// </summary>
public sealed class RulesTopicContentsTests
{
    [Fact]
    public void Records_apply_in_order_over_the_configured_rules_and_invalid_ones_are_refused_naming_the_key()
    {
        var configured = RuleSettings.Default.Set!;
        var contents = RulesTopicContents.Of(
            [
                Record(0, "sliding-velocity", """{"params":{"threshold":3}}"""),
                Record(1, "fast-spender", """{"enabled":true}"""),
                Record(2, "timer-velocity", """{"enabled":true,"params":{"window":"30s"}}"""),
                Record(3, "sliding-velocity", """{"params":{"threshold":0}}"""),
                new RuleRecordAt(0, 4, "timer-velocity", null),
            ],
            configured);

        Assert.Equal(5, contents.Records);
        var sliding = contents.Desired.Find("sliding-velocity")!;
        Assert.Equal((true, 1L, "3"), (sliding.Enabled, sliding.Version, sliding.Param("threshold")));
        var timer = contents.Desired.Find("timer-velocity")!;
        Assert.Equal((false, 5L, "60s"), (timer.Enabled, timer.Version, timer.Param("window")));
        Assert.Equal(0, contents.Desired.Find("small-then-large")!.Version);

        Assert.Equal(["key", "params.threshold"], contents.Refused.Select(r => r.Field));
        Assert.Equal([1L, 3L], contents.Refused.Select(r => r.Offset));
        Assert.StartsWith("key: no rule is called 'fast-spender'", contents.Refused[0].Reason, StringComparison.Ordinal);
        Assert.Contains("params.threshold: '0' is not a positive whole number", contents.Refused[1].Reason, StringComparison.Ordinal);
    }

    private static RuleRecordAt Record(long offset, string key, string value) => new(0, offset, key, Encoding.UTF8.GetBytes(value));
}
