using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Tests.Rules;

/// <summary>
/// The catalog finds every rule by its attribute, so a new rule is one file; what every rule
/// must do (survive its own binary form, honour its settings) is checked here for all of them.
/// </summary>
public sealed class RuleCatalogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Rules => [.. RuleCatalog.Known.Select(r => r.Name)];

    [Fact]
    public void The_three_rules_are_known_and_only_sliding_velocity_runs_by_default()
    {
        Assert.Equal(
            [("sliding-velocity", true), ("small-then-large", false), ("timer-velocity", false)],
            RuleCatalog.Known.Select(r => (r.Name, r.EnabledByDefault)));
        Assert.Equal(["sliding-velocity"], RuleSettings.Default.Rules.Select(r => r.Name));
        Assert.Throws<ArgumentException>(() => RuleCatalog.Create("no-such-rule"));
    }

    [Fact]
    public void Settings_come_from_the_rule_s_own_keys_and_a_bad_one_names_its_key()
    {
        var keys = new Dictionary<string, string> { ["enabled"] = "on", ["threshold"] = "3", ["window"] = "30s" };
        var rules = RuleCatalog.Create(name => new RuleConfig(name, key => name == "timer-velocity" ? keys.GetValueOrDefault(key) : null));
        Assert.Equal(["sliding-velocity", "timer-velocity"], rules.Rules.Select(r => r.Name));
        Assert.Equal(30_000, rules.Find("timer-velocity")!.WindowMs);

        keys["threshold"] = "three";
        var e = Assert.Throws<Akka.Configuration.ConfigurationException>(() =>
            RuleCatalog.Create(name => new RuleConfig(name, key => name == "timer-velocity" ? keys.GetValueOrDefault(key) : null)));
        Assert.Contains("fraud.rules.timer-velocity.threshold", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Every_rule_s_state_survives_its_binary_form(string name)
    {
        var rule = RuleCatalog.Create(name);
        object? state = null;
        var timers = TimerSet.Empty;
        foreach (var (seconds, amount) in new[] { (0, 0.5m), (10, 800m), (20, 0.2m), (25, 3m), (30, 4m) })
        {
            var tx = new Transaction("u1", amount, "shop", T0.AddSeconds(seconds));
            state = rule.Apply(state, new RuleInput(tx, tx.EventTimeMs), ref timers, out _);
        }

        if (state is null)
        {
            return; // nothing kept: nothing to store
        }

        using var bytes = new MemoryStream();
        using (var writer = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            rule.Write(writer, state);
        }

        bytes.Position = 0;
        using var reader = new BinaryReader(bytes);
        var back = rule.Read(reader);
        Assert.Equal(bytes.Length, bytes.Position);

        // Equal in what it does next: the same transaction gives the same verdict and timers.
        var next = new Transaction("u1", 600m, "shop", T0.AddSeconds(35));
        var (timersA, timersB) = (timers, timers);
        rule.Apply(state, new RuleInput(next, next.EventTimeMs), ref timersA, out var verdictA);
        rule.Apply(back, new RuleInput(next, next.EventTimeMs), ref timersB, out var verdictB);
        Assert.Equal(verdictA, verdictB);
        Assert.Equal(timersA.All, timersB.All);
    }
}
