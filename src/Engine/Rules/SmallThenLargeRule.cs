using FraudActors.Engine.State;
using FraudActors.Engine.Time;

namespace FraudActors.Engine.Rules;

/// <summary>Thresholds of <see cref="SmallThenLargeRule"/>; the defaults are Flink's fraud walkthrough's.</summary>
public sealed record SmallThenLargeSettings(decimal SmallBelow = 1.00m, decimal LargeAbove = 500.00m, TimeSpan? Within = null)
{
    public long WithinMs => (long)(Within ?? TimeSpan.FromMinutes(1)).TotalMilliseconds;
}

/// <summary>
/// The <c>small-then-large</c> rule of Flink's fraud-detection walkthrough: a transaction under
/// 1.00 followed immediately by one over 500.00 of the same user within a minute. The state is a
/// value flag (when the small one happened) and an event-time timer that clears it a minute later.
/// Pure: (state, transaction) → (state, verdict); the timer is registered in the user's timers.
/// </summary>
[FraudRule(RuleName)]
public sealed class SmallThenLargeRule(SmallThenLargeSettings settings) : FraudRule<SmallThenLargeRule.FlagState>
{
    public const string RuleName = "small-then-large";

    public SmallThenLargeRule(RuleConfig config)
        : this(new SmallThenLargeSettings(config.Decimal("small-below", 1.00m), config.Decimal("large-above", 500.00m), config.Duration("within", TimeSpan.FromMinutes(1))))
    {
    }

    public override string Name => RuleName;

    public override long WindowMs => settings.WithinMs;

    public override (FlagState State, RuleVerdict Verdict) Apply(FlagState state, in RuleInput input, ref TimerSet timers)
    {
        (state, timers, var verdict) = Apply(state, timers, input.Transaction.Amount, input.TimeMs, settings);
        return (state, verdict);
    }

    public override FlagState OnTimer(FlagState state, UserTimer timer, ref TimerSet timers) => OnTimer(state);

    public override void Write(BinaryWriter writer, FlagState state) => StateCodec.Write(writer, state.SmallAtMs, StateCodec.Int64);

    public override FlagState Read(BinaryReader reader) => new(StateCodec.ReadValue(reader, StateCodec.ReadInt64));

    /// <summary>The flag: the event time of the last small transaction, if the next one has not come yet.</summary>
    public readonly record struct FlagState(ValueState<long> SmallAtMs);

    public static (FlagState State, TimerSet Timers, RuleVerdict Verdict) Apply(
        FlagState state, TimerSet timers, decimal amount, long eventTimeMs, SmallThenLargeSettings settings)
    {
        var verdict = RuleVerdict.Quiet;
        if (state.SmallAtMs.HasValue)
        {
            if (amount > settings.LargeAbove && eventTimeMs - state.SmallAtMs.Value <= settings.WithinMs)
            {
                verdict = new RuleVerdict(true, 2);
            }

            // "Immediately": whatever this transaction is, the small one's chance has passed.
            timers = timers.Delete(ClearTimer(state.SmallAtMs.Value, settings));
            state = new FlagState(state.SmallAtMs.Clear());
        }

        if (amount < settings.SmallBelow)
        {
            state = new FlagState(state.SmallAtMs.Update(eventTimeMs, eventTimeMs));
            timers = timers.Register(ClearTimer(eventTimeMs, settings));
        }

        return (state, timers, verdict);
    }

    /// <summary>The timer fired: a minute passed without the next transaction, the flag goes.</summary>
    public static FlagState OnTimer(FlagState state) => new(state.SmallAtMs.Clear());

    public static UserTimer ClearTimer(long smallAtMs, SmallThenLargeSettings settings) =>
        new(smallAtMs + settings.WithinMs, TimeDomain.EventTime, RuleName);
}
