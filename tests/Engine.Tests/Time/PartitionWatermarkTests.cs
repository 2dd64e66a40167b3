using FraudActors.Engine.Time;

namespace FraudActors.Engine.Tests.Time;

/// <summary>A partition's event-time clock: bounded out-of-orderness, never backwards, idleness, lateness.</summary>
public sealed class PartitionWatermarkTests
{
    private static readonly WatermarkSettings FiveSeconds = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2));

    [Fact]
    public void The_watermark_trails_the_highest_timestamp_by_the_out_of_orderness_and_never_goes_back()
    {
        var clock = PartitionWatermark.Initial.Observe(100_000, nowMs: 0, FiveSeconds);
        Assert.Equal(95_000, clock.Current(0, FiveSeconds));

        // An out-of-order record within the bound moves nothing back.
        clock = clock.Observe(97_000, nowMs: 1, FiveSeconds);
        Assert.Equal((100_000L, 95_000L), (clock.MaxEventTimeMs, clock.Current(1, FiveSeconds)));

        clock = clock.Observe(110_000, nowMs: 2, FiveSeconds);
        Assert.Equal(105_000, clock.Current(2, FiveSeconds));
    }

    [Fact]
    public void Records_behind_the_watermark_by_more_than_the_allowed_lateness_are_late()
    {
        var clock = PartitionWatermark.Initial;
        Assert.False(clock.IsLate(0, 0, FiveSeconds));

        clock = clock.Observe(100_000, nowMs: 0, FiveSeconds);
        // Flink's rule: late when ts + allowed lateness <= watermark (a window ending at the
        // watermark has fired, so a record at its last instant can no longer join it).
        Assert.False(clock.IsLate(93_001, 0, FiveSeconds));
        Assert.True(clock.IsLate(93_000, 0, FiveSeconds));
    }

    [Fact]
    public void An_idle_partition_lets_its_watermark_follow_the_clock_until_records_come_again()
    {
        var clock = PartitionWatermark.Initial.Observe(100_000, nowMs: 1_000, FiveSeconds);
        Assert.False(clock.IsIdle(30_999, FiveSeconds));
        Assert.Equal(95_000, clock.Current(31_000, FiveSeconds));

        // 10 s past the idle timeout, the watermark has moved 10 s.
        Assert.True(clock.IsIdle(41_000, FiveSeconds));
        Assert.Equal(105_000, clock.Current(41_000, FiveSeconds));

        // A record after the idle stretch: the watermark keeps what idleness gave it.
        clock = clock.Observe(101_000, nowMs: 41_000, FiveSeconds);
        Assert.Equal(105_000, clock.Current(41_000, FiveSeconds));
        Assert.False(clock.IsIdle(41_001, FiveSeconds));
    }

    [Fact]
    public void Without_an_idle_timeout_a_quiet_partition_keeps_its_watermark()
    {
        var never = new WatermarkSettings(TimeSpan.FromSeconds(5), IdleTimeout: null);
        var clock = PartitionWatermark.Initial.Observe(100_000, nowMs: 0, never);
        Assert.Equal(95_000, clock.Current(long.MaxValue / 2, never));
        Assert.False(clock.IsIdle(long.MaxValue / 2, never));
    }
}
