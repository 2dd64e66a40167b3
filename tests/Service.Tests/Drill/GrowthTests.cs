using FraudActors.Tooling.Drill;

namespace FraudActors.Service.Tests.Drill;

/// <summary>
/// The soak's verdict "no growth that does not level off" on synthetic series of ten minutes
/// sampled every 10 s: what a healthy node shows passes, what a leak or a node that cannot keep
/// up shows fails.
/// </summary>
public sealed class GrowthTests
{
    private const double Mib = 1024 * 1024;

    [Fact]
    public void A_figure_that_rises_then_stays_on_a_plateau_levels_off()
    {
        // Working set: 120 MiB at start, up to ~400 MiB in the first minutes, then flat with a wobble.
        var series = Series(t => (120 + (280 * (1 - Math.Exp(-t / 40)))) * Mib + Wobble(t, 3 * Mib));

        var verdict = Growth.Judge("working set", "B", series, floor: 16 * Mib);

        Assert.True(verdict.Judged);
        Assert.False(verdict.Grows, verdict.ToString());
        Assert.True(verdict.Passed);
        Assert.Contains("levels off", verdict.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_steady_linear_growth_keeps_growing()
    {
        // 0.5 MiB a second: 300 MiB over the run, a leak.
        var series = Series(t => (200 + (0.5 * t)) * Mib + Wobble(t, 2 * Mib));

        var verdict = Growth.Judge("working set", "B", series, floor: 16 * Mib);

        Assert.True(verdict.Grows, verdict.ToString());
        Assert.False(verdict.Passed);
        Assert.StartsWith("working set: KEEPS GROWING", verdict.ToString(), StringComparison.Ordinal);
        Assert.True(verdict.Change > verdict.Threshold);
    }

    [Fact]
    public void A_sawtooth_gc_heap_levels_off()
    {
        // Allocation fills the heap from 100 to 400 MiB in 37 s, a collection takes it back to 100:
        // the 10 s samples land anywhere on the teeth.
        var series = Series(t => (100 + (300 * ((t % 37) / 37))) * Mib);

        var verdict = Growth.Judge("GC heap", "B", series, floor: 16 * Mib);

        Assert.True(verdict.Judged);
        Assert.False(verdict.Grows, verdict.ToString());
    }

    [Fact]
    public void A_leak_under_a_sawtooth_still_keeps_growing()
    {
        // The same teeth, 50 MiB high, on a floor that rises 1 MiB a second.
        var series = Series(t => (100 + t + (50 * ((t % 37) / 37))) * Mib);

        Assert.True(Growth.Judge("GC heap", "B", series, floor: 16 * Mib).Grows);
    }

    [Fact]
    public void A_bump_late_in_the_run_that_falls_back_is_not_growth()
    {
        // Flat at 500 MiB, then 60 MiB more from 420 s to 570 s (a backlog's objects), and back.
        var series = Series(t => (t is > 420 and < 570 ? 560 : 500) * Mib + Wobble(t, 2 * Mib));

        var verdict = Growth.Judge("working set", "B", series, floor: 16 * Mib);

        Assert.True(verdict.Last - verdict.Middle > verdict.Threshold, verdict.ToString());
        Assert.False(verdict.Grows, verdict.ToString());
    }

    [Fact]
    public void Lag_that_grows_for_ever_keeps_growing()
    {
        // Produced at 1,000/s, processed at 950/s: 50 more records behind every second, on top of
        // the sawtooth of commits every 500 ms.
        var series = Series(t => (50 * t) + (500 * Phase(t)));

        var verdict = Growth.Judge("lag", "records", series, floor: 1000);

        Assert.True(verdict.Grows, verdict.ToString());
    }

    [Fact]
    public void Lag_that_oscillates_with_the_checkpoints_levels_off()
    {
        // Up to half a second of records at 1,000/s wait for the next commit.
        var series = Series(t => 200 + (500 * Phase(t)));

        Assert.False(Growth.Judge("lag", "records", series, floor: 1000).Grows);
    }

    [Fact]
    public void A_rise_smaller_than_the_floor_does_not_count()
    {
        // Checkpoints from 2 ms to 6 ms over the run: growing, but by less than what matters.
        var series = Series(t => 2 + (t / 150));

        var verdict = Growth.Judge("checkpoint duration", "ms", series, floor: 20);

        Assert.True(verdict.Judged);
        Assert.False(verdict.Grows, verdict.ToString());
    }

    [Fact]
    public void The_warm_up_is_not_judged()
    {
        // Steep growth in the first fifth of the run, then flat.
        var series = Series(t => t < 120 ? t * 10 : 1200);

        var verdict = Growth.Judge("lag", "records", series, floor: 100);

        Assert.False(verdict.Grows, verdict.ToString());
        Assert.Equal(1200, verdict.Last);
    }

    [Fact]
    public void Too_few_samples_are_not_judged_and_do_not_pass()
    {
        var series = Series(t => t, seconds: 40, every: 10);

        var verdict = Growth.Judge("lag", "records", series, floor: 100);

        Assert.False(verdict.Judged);
        Assert.False(verdict.Passed);
        Assert.Contains("not judged", verdict.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_samples_are_left_out()
    {
        var series = Series(t => (int)t % 30 == 0 ? double.NaN : 300 + (t * 2));

        var verdict = Growth.Judge("lag", "records", series, floor: 100);

        Assert.True(verdict.Grows, verdict.ToString());
        Assert.True(double.IsFinite(verdict.Middle) && double.IsFinite(verdict.Last));
        Assert.True(verdict.Samples < series.Count * 3 / 4);
    }

    [Fact]
    public void The_warm_up_is_the_runs_even_when_its_first_samples_failed()
    {
        // A 40 s soak sampled every 5 s whose first two samples have no value (no checkpoint
        // ended in them): the warm-up is still the run's first quarter, so the six samples
        // after it are judged.
        var series = Series(t => t <= 10 ? double.NaN : 20, seconds: 40, every: 5);

        var verdict = Growth.Judge("checkpoint duration", "ms", series, floor: 20);

        Assert.True(verdict.Judged, verdict.ToString());
        Assert.Equal(6, verdict.Samples);
        Assert.False(verdict.Grows, verdict.ToString());
    }

    /// <summary>A sample every <paramref name="every"/> seconds from <paramref name="every"/> to <paramref name="seconds"/>.</summary>
    private static List<SoakPoint> Series(Func<double, double> value, int seconds = 600, int every = 10) =>
        [.. Enumerable.Range(1, seconds / every).Select(i => new SoakPoint(i * every, value(i * every)))];

    /// <summary>Where a 10 s sample lands in a cycle much shorter than 10 s: anywhere from 0 to 1.</summary>
    private static double Phase(double t) => (t * 0.137) % 1;

    /// <summary>A deterministic wobble of about <paramref name="size"/> either way.</summary>
    private static double Wobble(double t, double size) => size * Math.Sin(t * 1.7);
}
