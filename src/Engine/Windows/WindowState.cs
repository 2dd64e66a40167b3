using System.Collections.Immutable;
using FraudActors.Engine.State;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows;

/// <summary>
/// Which windows run and their sizes (configuration <c>fraud.windows</c>); a null size is off.
/// <see cref="AllowedLateness"/> keeps a time window open that much past its end, so a late but
/// allowed record still counts; its one result is emitted when the watermark passes both.
/// </summary>
public sealed record WindowSettings(
    TimeSpan? Tumbling = null,
    TimeSpan? SlidingSize = null,
    TimeSpan? SlidingSlide = null,
    TimeSpan? SessionGap = null,
    int? CountSize = null,
    TimeSpan AllowedLateness = default)
{
    public static WindowSettings None { get; } = new();

    /// <summary>The sizes, every kind on: tumbling 5 min, sliding 10 min every 5, sessions with a 10 min gap, every 100 transactions.</summary>
    public static WindowSettings All { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), 100);

    public bool AnyTimeWindow => Tumbling is not null || SlidingSize is not null || SessionGap is not null;

    public bool Any => AnyTimeWindow || CountSize is not null;

    internal long LatenessMs => (long)AllowedLateness.TotalMilliseconds;
}

/// <summary>A time window's running aggregate: how many transactions, how much.</summary>
public readonly record struct WindowAggregate(long Count, decimal Total)
{
    public WindowAggregate Add(decimal amount) => new(Count + 1, Amounts.Add(Total, amount));
}

/// <summary>
/// A user's open windows of every kind, as one immutable value inside the user's state. Pure:
/// a transaction goes in with <see cref="Add"/>; <see cref="Fire"/> takes out what the watermark
/// has closed, as results with deterministic ids.
/// </summary>
public sealed record WindowState(
    ImmutableSortedDictionary<TimeWindow, WindowAggregate> Tumbling,
    ImmutableSortedDictionary<TimeWindow, WindowAggregate> Sliding,
    ImmutableList<Session> Sessions,
    CountWindow Counting,
    long CountingFirstMs,
    long CountWindowsEmitted)
{
    public static WindowState Empty { get; } = new(
        ImmutableSortedDictionary<TimeWindow, WindowAggregate>.Empty,
        ImmutableSortedDictionary<TimeWindow, WindowAggregate>.Empty,
        [],
        default,
        0,
        0);

    /// <summary>
    /// Adds a transaction at <paramref name="timeMs"/>. A <paramref name="late"/> record (behind the
    /// watermark by more than the allowed lateness) joins no time window — it went to the late
    /// side output — but still counts in count windows, which know no time. A count window that
    /// fills is returned at once.
    /// </summary>
    public (WindowState State, WindowResult? Full) Add(string userId, long timeMs, decimal amount, bool late, WindowSettings settings, DateTimeOffset now)
    {
        var state = this;
        if (!late)
        {
            if (settings.Tumbling is { } tumbling)
            {
                var window = WindowAssigner.Tumbling(timeMs, (long)tumbling.TotalMilliseconds);
                state = state with { Tumbling = state.Tumbling.SetItem(window, state.Tumbling.GetValueOrDefault(window).Add(amount)) };
            }

            if (settings.SlidingSize is { } size)
            {
                var sliding = state.Sliding;
                var slide = (long)(settings.SlidingSlide ?? size).TotalMilliseconds;
                foreach (var window in WindowAssigner.Sliding(timeMs, (long)size.TotalMilliseconds, slide))
                {
                    sliding = sliding.SetItem(window, sliding.GetValueOrDefault(window).Add(amount));
                }

                state = state with { Sliding = sliding };
            }

            if (settings.SessionGap is { } gap)
            {
                state = state with { Sessions = Windows.Sessions.Add(state.Sessions, timeMs, amount, (long)gap.TotalMilliseconds) };
            }
        }

        if (settings.CountSize is not { } countSize)
        {
            return (state, null);
        }

        var firstMs = state.Counting.Count == 0 ? timeMs : Math.Min(state.CountingFirstMs, timeMs);
        var (counting, full) = state.Counting.Add(amount, countSize);
        if (full is not { } done)
        {
            return (state with { Counting = counting, CountingFirstMs = firstMs }, null);
        }

        var ordinal = state.CountWindowsEmitted + 1;
        var result = new WindowResult(
            WindowResult.CountWindowId(userId, ordinal),
            WindowKinds.Count,
            userId,
            DateTimeOffset.FromUnixTimeMilliseconds(firstMs),
            DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(firstMs, timeMs)),
            done.Count,
            done.Total,
            now);
        return (state with { Counting = counting, CountingFirstMs = 0, CountWindowsEmitted = ordinal }, result);
    }

    /// <summary>Every window the watermark has passed (end and allowed lateness), oldest end first, and the state without them.</summary>
    public (WindowState State, IReadOnlyList<WindowResult> Results) Fire(string userId, long watermarkMs, WindowSettings settings, DateTimeOffset now)
    {
        if (watermarkMs == long.MinValue || NextDueMs(settings) is not { } next || next > watermarkMs)
        {
            return (this, []);
        }

        var results = new List<WindowResult>();
        var lateness = settings.LatenessMs;
        var tumbling = FireTimeWindows(Tumbling, WindowKinds.Tumbling, userId, watermarkMs - lateness, now, results);
        var sliding = FireTimeWindows(Sliding, WindowKinds.Sliding, userId, watermarkMs - lateness, now, results);
        var sessions = Sessions;
        if (settings.SessionGap is { } gap && !Sessions.IsEmpty)
        {
            (var closed, sessions) = Windows.Sessions.Close(Sessions, watermarkMs - lateness, (long)gap.TotalMilliseconds);
            results.AddRange(closed.Select(s => new WindowResult(
                WindowResult.SessionId(userId, s.FirstMs),
                WindowKinds.Session,
                userId,
                DateTimeOffset.FromUnixTimeMilliseconds(s.FirstMs),
                DateTimeOffset.FromUnixTimeMilliseconds(s.LastMs),
                s.Count,
                s.Total,
                now)));
        }

        results.Sort((a, b) => a.WindowEnd != b.WindowEnd ? a.WindowEnd.CompareTo(b.WindowEnd) : string.CompareOrdinal(a.ResultId, b.ResultId));
        return (this with { Tumbling = tumbling, Sliding = sliding, Sessions = sessions }, results);
    }

    /// <summary>The watermark at which the next open time window fires, or null when none is open.</summary>
    public long? NextDueMs(WindowSettings settings)
    {
        long? next = null;
        if (!Tumbling.IsEmpty)
        {
            next = Tumbling.Keys.First().MaxTimestampMs;
        }

        if (!Sliding.IsEmpty)
        {
            next = Min(next, Sliding.Keys.Min(w => w.MaxTimestampMs));
        }

        if (settings.SessionGap is { } gap && !Sessions.IsEmpty)
        {
            var gapMs = (long)gap.TotalMilliseconds;
            foreach (var session in Sessions)
            {
                next = Min(next, session.EndMs(gapMs) - 1);
            }
        }

        return next is { } due ? due + settings.LatenessMs : null;
    }

    private static ImmutableSortedDictionary<TimeWindow, WindowAggregate> FireTimeWindows(
        ImmutableSortedDictionary<TimeWindow, WindowAggregate> open, string kind, string userId, long watermarkMs, DateTimeOffset now, List<WindowResult> results)
    {
        if (open.IsEmpty)
        {
            return open;
        }

        var due = open.Where(w => w.Key.IsDue(watermarkMs)).ToList();
        foreach (var (window, aggregate) in due)
        {
            results.Add(new WindowResult(
                WindowResult.TimeWindowId(kind, userId, window.StartMs, window.EndMs),
                kind,
                userId,
                DateTimeOffset.FromUnixTimeMilliseconds(window.StartMs),
                DateTimeOffset.FromUnixTimeMilliseconds(window.EndMs),
                aggregate.Count,
                aggregate.Total,
                now));
        }

        return due.Count == 0 ? open : open.RemoveRange(due.Select(w => w.Key));
    }

    private static long? Min(long? a, long b) => a is { } x ? Math.Min(x, b) : b;
}
