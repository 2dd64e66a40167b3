using FraudActors.Engine.State;
using FraudActors.Engine.Time;

namespace FraudActors.Engine.Rules;

/// <summary>
/// The lecture's VelocityAlert (rule <c>timer-velocity</c>, docs/design.md, section 3): the first
/// transaction of a window registers one timer a window later and counts start; every
/// transaction counts; more than the threshold alerts; the timer resets the count. Unlike
/// <see cref="SlidingVelocityRule"/> its windows are fixed from their first transaction. Pure.
/// </summary>
[FraudRule(RuleName)]
public sealed class TimerVelocityRule(VelocitySettings settings) : FraudRule<TimerVelocityRule.CountState>
{
    public const string RuleName = "timer-velocity";

    public TimerVelocityRule(RuleConfig config)
        : this(new VelocitySettings(config.PositiveInt("threshold", 5), config.Duration("window", TimeSpan.FromSeconds(60))))
    {
    }

    public override string Name => RuleName;

    public override long WindowMs => settings.WindowMs;

    public override (CountState State, RuleVerdict Verdict) Apply(CountState state, in RuleInput input, ref TimerSet timers)
    {
        (state, timers, var verdict) = Apply(state, timers, input.TimeMs, settings);
        return (state, verdict);
    }

    public override CountState OnTimer(CountState state, UserTimer timer, ref TimerSet timers) => OnTimer(state);

    public override void Write(BinaryWriter writer, CountState state)
    {
        StateCodec.Write(writer, state.Count, StateCodec.Int64);
        StateCodec.Write(writer, state.ResetAtMs, StateCodec.Int64);
    }

    public override CountState Read(BinaryReader reader) =>
        new(StateCodec.ReadValue(reader, StateCodec.ReadInt64), StateCodec.ReadValue(reader, StateCodec.ReadInt64));

    /// <summary>The count of the open window and when its timer fires (empty when no window is open).</summary>
    public readonly record struct CountState(ValueState<long> Count, ValueState<long> ResetAtMs);

    public static (CountState State, TimerSet Timers, RuleVerdict Verdict) Apply(
        CountState state, TimerSet timers, long eventTimeMs, VelocitySettings settings)
    {
        if (!state.ResetAtMs.HasValue)
        {
            var resetAt = eventTimeMs + settings.WindowMs;
            timers = timers.Register(ResetTimer(resetAt));
            state = state with { ResetAtMs = state.ResetAtMs.Update(resetAt, eventTimeMs) };
        }

        var count = state.Count.Get(0) + 1;
        state = state with { Count = state.Count.Update(count, eventTimeMs) };
        return (state, timers, count > settings.Threshold ? new RuleVerdict(true, (int)count) : RuleVerdict.Quiet);
    }

    /// <summary>The window's timer fired: the count starts again with the next transaction.</summary>
    public static CountState OnTimer(CountState state) => new(state.Count.Clear(), state.ResetAtMs.Clear());

    public static UserTimer ResetTimer(long atMs) => new(atMs, TimeDomain.EventTime, RuleName);
}
