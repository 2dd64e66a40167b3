using FraudActors.Engine.Ingest;

namespace FraudActors.Engine.Tests.Ingest;

public sealed class RestartBackoffTests
{
    private static readonly TimeSpan Min = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(10);

    [Fact]
    public void Runs_that_keep_failing_wait_twice_as_long_each_time_up_to_the_maximum()
    {
        var backoff = new RestartBackoff(Min, Max);
        var delays = Enumerable.Range(0, 7).Select(_ => backoff.Next(TimeSpan.FromMilliseconds(50)).TotalSeconds).ToList();
        Assert.Equal([1, 2, 4, 8, 10, 10, 10], delays);
        Assert.Equal(7, backoff.Restarts);
    }

    [Fact]
    public void A_run_that_lasted_more_than_twice_the_maximum_was_healthy_and_starts_the_pauses_again_at_the_minimum()
    {
        var backoff = new RestartBackoff(Min, Max);
        foreach (var _ in Enumerable.Range(0, 5))
        {
            backoff.Next(TimeSpan.Zero);
        }

        Assert.Equal(Max, backoff.Next(2 * Max));
        Assert.Equal(Min, backoff.Next((2 * Max) + TimeSpan.FromTicks(1)));
        Assert.Equal(2 * Min, backoff.Next(TimeSpan.Zero));
    }

    [Fact]
    public void A_success_reported_by_reset_starts_the_pauses_again_at_the_minimum()
    {
        var backoff = new RestartBackoff(Min, Max);
        Assert.Equal([1, 2, 4], Enumerable.Range(0, 3).Select(_ => backoff.Next().TotalSeconds));
        backoff.Reset();
        Assert.Equal(Min, backoff.Next());
    }
}
