namespace FraudActors.Engine.Time;

/// <summary>Which clock rules, timers and windows follow (Flink's time characteristic).</summary>
public enum TimeCharacteristic
{
    /// <summary>The record's <c>ts</c>, with per-partition watermarks: deterministic, replay-safe.</summary>
    EventTime,

    /// <summary>The wall clock when the record is read: the lecture's literal behaviour; not reproducible on replay.</summary>
    ProcessingTime,
}

/// <summary>
/// The job's notion of time (configuration <c>fraud.time</c>): the characteristic, the
/// watermarks' bounds, and how often the partitions' clocks are looked at without records
/// (idle partitions and processing time advance on that tick).
/// </summary>
public sealed record TimeSettings(TimeCharacteristic Characteristic, WatermarkSettings Watermarks, TimeSpan TickInterval)
{
    public static TimeSettings Default { get; } = new(TimeCharacteristic.EventTime, WatermarkSettings.Default, TimeSpan.FromMilliseconds(200));
}
