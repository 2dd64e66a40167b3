namespace FraudActors.Engine.Time;

/// <summary>Bounded out-of-orderness and idleness of event time, as Flink's WatermarkStrategy names them.</summary>
/// <param name="OutOfOrderness">How far behind the newest <c>ts</c> a record may still arrive in order (default 5 s).</param>
/// <param name="IdleTimeout">After this long without records the partition counts as idle and its watermark follows the clock (Flink's <c>withIdleness</c>); null: never.</param>
/// <param name="AllowedLateness">How far behind the watermark a record is still applied; beyond it the record is late.</param>
public sealed record WatermarkSettings(TimeSpan? OutOfOrderness = null, TimeSpan? IdleTimeout = null, TimeSpan AllowedLateness = default)
{
    public static WatermarkSettings Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));

    public long OutOfOrdernessMs => (long)(OutOfOrderness ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
}

/// <summary>
/// The event-time clock of one Kafka partition (docs/design.md, section 3): the highest <c>ts</c> seen
/// minus the allowed out-of-orderness, never going back. A partition that receives nothing for
/// the idle timeout must not hold windows and timers open forever, so from then on its watermark
/// advances with processing time from where it stood. Immutable: each observation returns the
/// new clock.
/// </summary>
public readonly record struct PartitionWatermark(long MaxEventTimeMs, long WatermarkMs, long LastRecordAtMs, bool Started)
{
    public static PartitionWatermark Initial => new(long.MinValue, long.MinValue, 0, false);

    /// <summary>A record with event time <paramref name="eventTimeMs"/> arrived at processing time <paramref name="nowMs"/>.</summary>
    public PartitionWatermark Observe(long eventTimeMs, long nowMs, WatermarkSettings settings)
    {
        var max = Math.Max(MaxEventTimeMs, eventTimeMs);
        var watermark = Math.Max(Current(nowMs, settings), max - settings.OutOfOrdernessMs);
        return new PartitionWatermark(max, watermark, nowMs, true);
    }

    /// <summary>The watermark at processing time <paramref name="nowMs"/>, idleness included.</summary>
    public long Current(long nowMs, WatermarkSettings settings)
    {
        if (!Started || settings.IdleTimeout is not { } idle)
        {
            return WatermarkMs;
        }

        var idleFor = nowMs - LastRecordAtMs - (long)idle.TotalMilliseconds;
        return idleFor > 0 ? Math.Max(WatermarkMs, checked(WatermarkMs + idleFor)) : WatermarkMs;
    }

    public bool IsIdle(long nowMs, WatermarkSettings settings) =>
        Started && settings.IdleTimeout is { } idle && nowMs - LastRecordAtMs >= (long)idle.TotalMilliseconds;

    /// <summary>
    /// Whether a record at <paramref name="eventTimeMs"/> is late: its time plus the allowed
    /// lateness is at or behind the watermark (Flink's rule), so every window it belongs to has
    /// already fired.
    /// </summary>
    public bool IsLate(long eventTimeMs, long nowMs, WatermarkSettings settings) =>
        Started && eventTimeMs + (long)settings.AllowedLateness.TotalMilliseconds <= Current(nowMs, settings);

    /// <summary>
    /// An idle partition follows the partitions still receiving records (Flink leaves idle inputs
    /// out of the minimum watermark): its watermark rises to <paramref name="watermarkMs"/> and
    /// keeps following the clock from there, so a record arriving later is judged against it.
    /// </summary>
    public PartitionWatermark FollowTo(long watermarkMs, long nowMs, WatermarkSettings settings)
    {
        var current = Current(nowMs, settings);
        if (watermarkMs <= current || settings.IdleTimeout is not { } idle)
        {
            return this;
        }

        return new PartitionWatermark(MaxEventTimeMs, watermarkMs, nowMs - (long)idle.TotalMilliseconds, Started: true);
    }

    /// <summary>The clock restored from a checkpoint's watermark: records behind it stay late after a restart, as before it.</summary>
    public static PartitionWatermark Restored(long? watermarkMs, long nowMs, WatermarkSettings settings) =>
        watermarkMs is { } w ? new PartitionWatermark(w + settings.OutOfOrdernessMs, w, nowMs, true) : Initial;
}
