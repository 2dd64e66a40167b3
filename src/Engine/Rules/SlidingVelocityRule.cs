using System.Collections.Immutable;
using FraudActors.Engine.Time;

namespace FraudActors.Engine.Rules;

/// <summary>Threshold and look-back of <see cref="SlidingVelocityRule"/>; the defaults are the lab's.</summary>
public sealed record VelocitySettings(int Threshold = 5, TimeSpan? Window = null)
{
    public TimeSpan WindowLength => Window ?? TimeSpan.FromSeconds(60);

    public long WindowMs => (long)WindowLength.TotalMilliseconds;
}

/// <summary>
/// The lab's FraudDetector (rule <c>sliding-velocity</c>, docs/design.md, section 3) in event time: on a
/// transaction at t, count the user's transactions with t - window &lt;= t' &lt;= t, the current one
/// included; more than the threshold alerts. The state is the timestamps (Flink's ListState),
/// pruned against the newest time seen so it stays bounded.
/// </summary>
[FraudRule(RuleName, EnabledByDefault = true)]
public sealed class SlidingVelocityRule(VelocitySettings settings) : FraudRule<ImmutableArray<long>>
{
    public const string RuleName = "sliding-velocity";

    public SlidingVelocityRule(RuleConfig config)
        : this(new VelocitySettings(config.PositiveInt("threshold", 5), config.Duration("window", TimeSpan.FromSeconds(60))))
    {
    }

    public VelocitySettings Settings => settings;

    public override string Name => RuleName;

    public override long WindowMs => settings.WindowMs;

    public override (ImmutableArray<long> State, RuleVerdict Verdict) Apply(ImmutableArray<long> state, in RuleInput input, ref TimerSet timers)
    {
        var (timestamps, count) = Apply(state.IsDefault ? [] : state, input.TimeMs, settings);
        return (timestamps, Fires(count, settings) ? new RuleVerdict(true, count) : RuleVerdict.Quiet);
    }

    public override void Write(BinaryWriter writer, ImmutableArray<long> state)
    {
        writer.Write(state.Length);
        foreach (var t in state)
        {
            writer.Write(t);
        }
    }

    public override ImmutableArray<long> Read(BinaryReader reader)
    {
        var timestamps = ImmutableArray.CreateBuilder<long>(reader.ReadInt32());
        for (var i = 0; i < timestamps.Capacity; i++)
        {
            timestamps.Add(reader.ReadInt64());
        }

        return timestamps.MoveToImmutable();
    }

    /// <summary>Adds the transaction at <paramref name="eventTimeMs"/>; returns the new timestamps and the count in its window.</summary>
    public static (ImmutableArray<long> Timestamps, int Count) Apply(
        ImmutableArray<long> timestamps, long eventTimeMs, VelocitySettings settings)
    {
        var windowMs = settings.WindowMs;
        var updated = InsertSorted(timestamps, eventTimeMs);

        // Out-of-order records are counted against the window that ends at their own time, so a
        // late record never counts transactions that happened after it.
        var from = eventTimeMs - windowMs;
        var count = 0;
        foreach (var t in updated)
        {
            if (t >= from && t <= eventTimeMs)
            {
                count++;
            }
        }

        var keepFrom = updated[^1] - windowMs;
        var firstKept = 0;
        while (updated[firstKept] < keepFrom)
        {
            firstKept++;
        }

        return (firstKept == 0 ? updated : updated[firstKept..], count);
    }

    public static bool Fires(int count, VelocitySettings settings) => count > settings.Threshold;

    private static ImmutableArray<long> InsertSorted(ImmutableArray<long> sorted, long value)
    {
        var index = sorted.Length;
        while (index > 0 && sorted[index - 1] > value)
        {
            index--;
        }

        return sorted.Insert(index, value);
    }
}
