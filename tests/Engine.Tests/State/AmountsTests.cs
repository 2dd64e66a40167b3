using FraudActors.Engine.State;
using FraudActors.Engine.Windows;

namespace FraudActors.Engine.Tests.State;

/// <summary>Sums of amounts never throw: the parser's bound keeps them small, and a sum restored from older state is held at the limit.</summary>
public sealed class AmountsTests
{
    private static readonly decimal Near = decimal.MaxValue - 10m;

    [Fact]
    public void A_sum_beyond_a_decimal_is_held_at_its_limit_on_either_side()
    {
        Assert.Equal(3.5m, Amounts.Add(1m, 2.5m));
        Assert.Equal(decimal.MaxValue, Amounts.Add(Near, 1_000_000_000m));
        Assert.Equal(decimal.MinValue, Amounts.Add(-Near, -1_000_000_000m));
        Assert.Equal(Near - 1_000_000_000m, Amounts.Add(Near, -1_000_000_000m));
    }

    [Fact]
    public void Running_stats_windows_sessions_and_count_windows_absorb_a_sum_near_the_limit()
    {
        var stats = RunningStats.Combine(new RunningStats(3, Near, 1m, 5m), RunningStats.Of(1_000_000_000m));
        Assert.Equal((4L, decimal.MaxValue, 1m, 1_000_000_000m), (stats.Count, stats.Sum, stats.Min, stats.Max));
        Assert.Equal(decimal.MaxValue / 4, stats.Average);

        Assert.Equal(new WindowAggregate(2, decimal.MaxValue), new WindowAggregate(1, Near).Add(1_000_000_000m));
        Assert.Equal(decimal.MaxValue, new CountWindow(1, Near).Add(1_000_000_000m, size: 2).Full!.Value.Total);

        var sessions = Sessions.Add([new Session(0, 1_000, 1, Near), new Session(3_000, 4_000, 1, Near)], 2_000, 1m, gapMs: 1_500);
        Assert.Equal(decimal.MaxValue, Assert.Single(sessions).Total);
    }

    [Fact]
    public void The_largest_bounded_amount_summed_a_long_count_of_times_fits_a_decimal()
    {
        // Why the parser's bound is at most 2^33: a sum of long.MaxValue such amounts stays below decimal.MaxValue.
        Assert.True(FraudActors.Messages.Transactions.TransactionParser.MaxAbsAmountLimit * long.MaxValue < decimal.MaxValue);
    }
}
