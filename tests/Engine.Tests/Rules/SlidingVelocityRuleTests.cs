using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Tests.Rules;

/// <summary>The lab's rule, docs/design.md, section 3, through the user's pure state: no actors involved.</summary>
public sealed class SlidingVelocityRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 3, 17, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Five_transactions_in_60_seconds_do_not_alert_and_the_sixth_alerts_with_count_6()
    {
        var alerts = Run("u1", seconds: [0, 10, 20, 30, 40]);
        Assert.Empty(alerts);

        alerts = Run("u1", seconds: [0, 10, 20, 30, 40, 50]);
        var alert = Assert.Single(alerts);
        Assert.Equal(6, alert.Count);
        Assert.Equal("sliding-velocity", alert.Rule);
        Assert.Equal("u1", alert.UserId);
        Assert.Equal(60_000, alert.WindowMs);
        Assert.Equal(T0.AddSeconds(50), alert.TxTs);
        Assert.Equal(5, alert.Offset);
        Assert.Equal("sliding-velocity:0:5", alert.AlertId);
    }

    [Fact]
    public void A_transaction_exactly_60_seconds_after_the_first_still_counts_it()
    {
        var alert = Assert.Single(Run("u1", seconds: [0, 10, 20, 30, 40, 60]));
        Assert.Equal(6, alert.Count);
    }

    [Fact]
    public void A_transaction_61_seconds_after_the_first_no_longer_counts_it()
    {
        Assert.Empty(Run("u1", seconds: [0, 10, 20, 30, 40, 61]));
    }

    [Fact]
    public void Sixty_seconds_and_one_millisecond_is_outside_the_window()
    {
        var times = new[] { 0.0, 10, 20, 30, 40, 60.001 };
        Assert.Empty(Run("u1", times));
    }

    [Fact]
    public void A_long_burst_alerts_on_every_transaction_past_the_fifth()
    {
        var seconds = Enumerable.Range(0, 12).Select(i => i * 2.0).ToArray();
        var alerts = Run("u1", seconds);
        Assert.Equal([6, 7, 8, 9, 10, 11, 12], alerts.Select(a => a.Count));
        Assert.Equal([5L, 6, 7, 8, 9, 10, 11], alerts.Select(a => a.Offset));
    }

    [Fact]
    public void The_window_slides_so_old_transactions_stop_counting()
    {
        // 6 at 0..5 s alert once; 6 more from 70 s on see only each other.
        var seconds = new double[] { 0, 1, 2, 3, 4, 5, 70, 71, 72, 73, 74, 75 };
        var alerts = Run("u1", seconds);
        Assert.Equal([6, 6], alerts.Select(a => a.Count));
        Assert.Equal([5L, 11], alerts.Select(a => a.Offset));
    }

    [Fact]
    public void Users_never_affect_each_other()
    {
        // Interleaved: u1 and u2 each make 5 transactions in 10 s; 10 in all, but no alert.
        var rules = RuleSettings.Default;
        var states = new Dictionary<string, UserState>();
        var alerts = new List<Alert>();
        for (var i = 0; i < 10; i++)
        {
            var user = i % 2 == 0 ? "u1" : "u2";
            var state = states.GetValueOrDefault(user) ?? UserState.Empty(user);
            (states[user], var raised) = state.Apply(Command(user, i, T0.AddSeconds(i)), rules, Now);
            alerts.AddRange(raised);
        }

        Assert.Empty(alerts);

        // A sixth for u1 alerts with u1's count only.
        var (_, sixth) = states["u1"].Apply(Command("u1", 10, T0.AddSeconds(10)), rules, Now);
        Assert.Equal(6, Assert.Single(sixth).Count);
    }

    [Fact]
    public void Threshold_and_window_are_settings()
    {
        var rules = new RuleSettings(new VelocitySettings(Threshold: 2, Window: TimeSpan.FromSeconds(10)));
        var alerts = Run("u1", seconds: [0, 5, 9, 30, 31, 42], rules);
        Assert.Equal([3], alerts.Select(a => a.Count));
        Assert.Equal(10_000, alerts[0].WindowMs);
    }

    [Fact]
    public void An_out_of_order_transaction_counts_only_what_happened_up_to_its_own_time()
    {
        // 4 s arrives after 10 s: its window holds 0..4 (five, no alert), not the later 10 s.
        // Then 11 s sees all seven.
        var alerts = Run("u1", seconds: [0, 1, 2, 3, 10, 4, 11]);
        Assert.Equal([7], alerts.Select(a => a.Count));
        Assert.Equal(6, alerts[0].Offset);
    }

    [Fact]
    public void With_the_rule_off_nothing_alerts_and_the_offset_still_advances()
    {
        var state = UserState.Empty("u1");
        var rules = new RuleSettings(SlidingVelocity: null);
        for (var i = 0; i < 10; i++)
        {
            (state, var alerts) = state.Apply(Command("u1", i, T0.AddSeconds(i)), rules, Now);
            Assert.Empty(alerts);
        }

        Assert.Equal(9, state.LastAppliedOffset);
    }

    private static List<Alert> Run(string user, double[] seconds, RuleSettings? rules = null)
    {
        var state = UserState.Empty(user);
        var all = new List<Alert>();
        for (var i = 0; i < seconds.Length; i++)
        {
            (state, var alerts) = state.Apply(Command(user, i, T0.AddMilliseconds(seconds[i] * 1000)), rules ?? RuleSettings.Default, Now);
            all.AddRange(alerts);
        }

        return all;
    }

    private static ApplyTransaction Command(string user, long offset, DateTimeOffset ts) =>
        new(0, offset, new Transaction(user, 12.50m, "gas_station", ts));
}
