using FraudActors.Engine.Time;

namespace FraudActors.Engine.Tests.Time;

/// <summary>A user's timers: one per registration, each fired once, in time order, per time domain.</summary>
public sealed class TimerSetTests
{
    private static readonly UserTimer ResetAt60 = new(60_000, TimeDomain.EventTime, "timer-velocity");
    private static readonly UserTimer ClearAt61 = new(61_000, TimeDomain.EventTime, "small-then-large");
    private static readonly UserTimer WallAt10 = new(10_000, TimeDomain.ProcessingTime, "timer-velocity");

    [Fact]
    public void Timers_fire_once_when_their_clock_passes_them_in_time_order()
    {
        var timers = TimerSet.Empty.Register(ClearAt61).Register(ResetAt60).Register(ResetAt60).Register(WallAt10);
        Assert.Equal(3, timers.Count);
        Assert.Equal(60_000, timers.Next(TimeDomain.EventTime));
        Assert.Equal(10_000, timers.Next(TimeDomain.ProcessingTime));

        var (none, same) = timers.Due(TimeDomain.EventTime, 59_999);
        Assert.Empty(none);
        Assert.Equal(timers, same);

        // The watermark passes both event-time timers; the processing-time one waits for its clock.
        var (fired, rest) = timers.Due(TimeDomain.EventTime, 61_000);
        Assert.Equal([ResetAt60, ClearAt61], fired);
        Assert.Equal([WallAt10], rest.All);

        // Fired timers are gone: the same watermark again fires nothing.
        Assert.Empty(rest.Due(TimeDomain.EventTime, 61_000).Fired);
        Assert.Equal([WallAt10], rest.Due(TimeDomain.ProcessingTime, 10_000).Fired);
    }

    [Fact]
    public void A_deleted_timer_never_fires()
    {
        var timers = TimerSet.Empty.Register(ResetAt60).Delete(ResetAt60).Delete(ClearAt61);
        Assert.Equal(0, timers.Count);
        Assert.Null(timers.Next(TimeDomain.EventTime));
        Assert.Empty(timers.Due(TimeDomain.EventTime, long.MaxValue).Fired);
    }
}
