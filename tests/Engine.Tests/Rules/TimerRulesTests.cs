using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;

namespace FraudActors.Engine.Tests.Rules;

/// <summary>The two timer rules as pure functions: the lecture's VelocityAlert and Flink's walkthrough rule.</summary>
public sealed class TimerRulesTests
{
    private const long T0 = 1_800_000_000_000;
    private static readonly VelocitySettings Velocity = new();
    private static readonly SmallThenLargeSettings Walkthrough = new();

    [Fact]
    public void Timer_velocity_counts_from_the_first_transaction_alerts_past_five_and_its_timer_resets_the_count()
    {
        var state = default(TimerVelocityRule.CountState);
        var timers = TimerSet.Empty;
        var verdicts = new List<RuleVerdict>();
        for (var i = 0; i < 7; i++)
        {
            (state, timers, var verdict) = TimerVelocityRule.Apply(state, timers, T0 + (i * 5_000), Velocity);
            verdicts.Add(verdict);
        }

        // One timer, a minute after the first transaction; the sixth and seventh alert.
        Assert.Equal([TimerVelocityRule.ResetTimer(T0 + 60_000)], timers.All);
        Assert.Equal([false, false, false, false, false, true, true], verdicts.Select(v => v.Fired));
        Assert.Equal([6, 7], verdicts.Where(v => v.Fired).Select(v => v.Count));

        // The watermark passes the timer: the count starts again, and so does the window.
        var (fired, rest) = timers.Due(TimeDomain.EventTime, T0 + 60_000);
        Assert.Single(fired);
        state = TimerVelocityRule.OnTimer(state);
        (state, timers, var next) = TimerVelocityRule.Apply(state, rest, T0 + 61_000, Velocity);
        Assert.Equal(new RuleVerdict(false, 0), next);
        Assert.Equal(1, state.Count.Get(0));
        Assert.Equal([TimerVelocityRule.ResetTimer(T0 + 121_000)], timers.All);
    }

    [Fact]
    public void Small_then_large_alerts_on_a_large_transaction_right_after_a_small_one_within_a_minute()
    {
        var state = default(SmallThenLargeRule.FlagState);
        var timers = TimerSet.Empty;
        (state, timers, var small) = SmallThenLargeRule.Apply(state, timers, 0.50m, T0, Walkthrough);
        Assert.False(small.Fired);
        Assert.Equal([SmallThenLargeRule.ClearTimer(T0, Walkthrough)], timers.All);

        (state, timers, var large) = SmallThenLargeRule.Apply(state, timers, 600m, T0 + 30_000, Walkthrough);
        Assert.True(large.Fired);
        Assert.False(state.SmallAtMs.HasValue);
        Assert.Equal(0, timers.Count);
    }

    [Fact]
    public void Small_then_large_needs_the_large_one_immediately_and_before_the_timer_clears_the_flag()
    {
        // Small, medium, large: the medium one in between clears the flag.
        var state = default(SmallThenLargeRule.FlagState);
        var timers = TimerSet.Empty;
        (state, timers, _) = SmallThenLargeRule.Apply(state, timers, 0.10m, T0, Walkthrough);
        (state, timers, _) = SmallThenLargeRule.Apply(state, timers, 20m, T0 + 1_000, Walkthrough);
        (state, timers, var afterMedium) = SmallThenLargeRule.Apply(state, timers, 900m, T0 + 2_000, Walkthrough);
        Assert.False(afterMedium.Fired);

        // Small, then the timer fires a minute later, then large: nothing.
        (state, timers, _) = SmallThenLargeRule.Apply(state, timers, 0.10m, T0 + 10_000, Walkthrough);
        var (fired, rest) = timers.Due(TimeDomain.EventTime, T0 + 70_000);
        Assert.Equal([SmallThenLargeRule.ClearTimer(T0 + 10_000, Walkthrough)], fired);
        state = SmallThenLargeRule.OnTimer(state);
        (_, _, var late) = SmallThenLargeRule.Apply(state, rest, 900m, T0 + 71_000, Walkthrough);
        Assert.False(late.Fired);

        // Two small ones in a row: the second keeps the flag (and its own timer).
        state = default;
        (state, timers, _) = SmallThenLargeRule.Apply(state, TimerSet.Empty, 0.10m, T0, Walkthrough);
        (state, timers, _) = SmallThenLargeRule.Apply(state, timers, 0.20m, T0 + 5_000, Walkthrough);
        Assert.Equal([SmallThenLargeRule.ClearTimer(T0 + 5_000, Walkthrough)], timers.All);
        Assert.True(SmallThenLargeRule.Apply(state, timers, 501m, T0 + 6_000, Walkthrough).Verdict.Fired);
    }
}
