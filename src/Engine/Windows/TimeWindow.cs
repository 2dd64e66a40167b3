namespace FraudActors.Engine.Windows;

/// <summary>An event-time window [<see cref="StartMs"/>, <see cref="EndMs"/>) in epoch milliseconds.</summary>
public readonly record struct TimeWindow(long StartMs, long EndMs) : IComparable<TimeWindow>
{
    /// <summary>The last instant inside the window: the watermark must reach it for the window to fire (as in Flink).</summary>
    public long MaxTimestampMs => EndMs - 1;

    public bool IsDue(long watermarkMs) => watermarkMs >= MaxTimestampMs;

    public int CompareTo(TimeWindow other) => (StartMs, EndMs).CompareTo((other.StartMs, other.EndMs));
}

/// <summary>Which time windows a record falls in: Flink's tumbling and sliding event-time assigners.</summary>
public static class WindowAssigner
{
    /// <summary>The one window of length <paramref name="sizeMs"/> holding <paramref name="timestampMs"/>, aligned to the epoch.</summary>
    public static TimeWindow Tumbling(long timestampMs, long sizeMs)
    {
        var start = timestampMs - Mod(timestampMs, sizeMs);
        return new TimeWindow(start, start + sizeMs);
    }

    /// <summary>Every window of length <paramref name="sizeMs"/>, one starting each <paramref name="slideMs"/>, that holds <paramref name="timestampMs"/>; oldest first.</summary>
    public static IReadOnlyList<TimeWindow> Sliding(long timestampMs, long sizeMs, long slideMs)
    {
        var windows = new List<TimeWindow>((int)((sizeMs + slideMs - 1) / slideMs));
        for (var start = timestampMs - Mod(timestampMs, slideMs); start > timestampMs - sizeMs; start -= slideMs)
        {
            windows.Add(new TimeWindow(start, start + sizeMs));
        }

        windows.Reverse();
        return windows;
    }

    private static long Mod(long value, long divisor) => ((value % divisor) + divisor) % divisor;
}
