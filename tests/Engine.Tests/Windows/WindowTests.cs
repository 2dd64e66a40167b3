using System.Collections.Immutable;
using FraudActors.Engine.Windows;

namespace FraudActors.Engine.Tests.Windows;

/// <summary>Window assignment and sessions against expectations computed by hand.</summary>
public sealed class WindowTests
{
    private const long Minute = 60_000;
    private static readonly long T0 = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void Tumbling_windows_of_five_minutes_are_aligned_to_the_epoch_and_fire_at_their_last_millisecond()
    {
        // 09:07:30 is in [09:05, 09:10); 09:10:00 already in the next one.
        var window = WindowAssigner.Tumbling(T0 + (7 * Minute) + 30_000, 5 * Minute);
        Assert.Equal(new TimeWindow(T0 + (5 * Minute), T0 + (10 * Minute)), window);
        Assert.Equal(T0 + (10 * Minute), WindowAssigner.Tumbling(T0 + (10 * Minute), 5 * Minute).StartMs);
        Assert.False(window.IsDue(T0 + (10 * Minute) - 2));
        Assert.True(window.IsDue(T0 + (10 * Minute) - 1));

        // Before the epoch too.
        Assert.Equal(new TimeWindow(-300_000, 0), WindowAssigner.Tumbling(-1, 5 * Minute));
    }

    [Fact]
    public void Sliding_windows_of_ten_minutes_every_five_hold_each_record_twice()
    {
        var windows = WindowAssigner.Sliding(T0 + (7 * Minute), 10 * Minute, 5 * Minute);
        Assert.Equal(
            [new TimeWindow(T0, T0 + (10 * Minute)), new TimeWindow(T0 + (5 * Minute), T0 + (15 * Minute))],
            windows);

        // A record exactly on a boundary starts the newer window and is the last of none.
        Assert.Equal(
            [new TimeWindow(T0 - (5 * Minute), T0 + (5 * Minute)), new TimeWindow(T0, T0 + (10 * Minute))],
            WindowAssigner.Sliding(T0, 10 * Minute, 5 * Minute));
    }

    [Fact]
    public void Sessions_with_a_ten_minute_gap_open_extend_merge_and_close()
    {
        const long gap = 10 * Minute;
        var open = ImmutableList<Session>.Empty;
        open = Sessions.Add(open, T0, 10m, gap);
        open = Sessions.Add(open, T0 + (4 * Minute), 5m, gap);          // extends: within the gap
        open = Sessions.Add(open, T0 + (30 * Minute), 1m, gap);         // a new session
        Assert.Equal(
            [new Session(T0, T0 + (4 * Minute), 2, 15m), new Session(T0 + (30 * Minute), T0 + (30 * Minute), 1, 1m)],
            open);

        // A record at 09:17, [09:17, 09:27), touches neither the first (ends 09:14) nor the second
        // (starts 09:30): a third session.
        open = Sessions.Add(open, T0 + (17 * Minute), 2m, gap);
        Assert.Equal(3, open.Count);

        // A late but allowed record at 09:13, [09:13, 09:23), touches the first (ends 09:14) and the
        // third (starts 09:17): they merge into one session 09:00–09:17.
        open = Sessions.Add(open, T0 + (13 * Minute), 3m, gap);
        Assert.Equal(
            [new Session(T0, T0 + (17 * Minute), 4, 20m), new Session(T0 + (30 * Minute), T0 + (30 * Minute), 1, 1m)],
            open);
        Assert.Equal(17 * 60, open[0].DurationSeconds);

        // The watermark reaching 09:27 − 1 ms closes the first session only.
        var (closed, stillOpen) = Sessions.Close(open, T0 + (27 * Minute) - 1, gap);
        Assert.Equal([open[0]], closed);
        Assert.Equal([open[1]], stillOpen);
        Assert.Empty(Sessions.Close(open, T0 + (27 * Minute) - 2, gap).Closed);
    }

    [Fact]
    public void A_count_window_of_three_fires_on_every_third_transaction()
    {
        var state = default(CountWindow);
        var fired = new List<CountWindow>();
        foreach (var amount in new[] { 1m, 2m, 3m, 4m, 5m, 6m, 7m })
        {
            (state, var full) = state.Add(amount, size: 3);
            if (full is { } window)
            {
                fired.Add(window);
            }
        }

        Assert.Equal([new CountWindow(3, 6m), new CountWindow(3, 15m)], fired);
        Assert.Equal(new CountWindow(1, 7m), state);
    }
}
