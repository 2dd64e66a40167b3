using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Tests.Users;

/// <summary>
/// A user reports its next timer to the partition's clock only when it moves earlier than what
/// the clock already wakes it by (docs/design.md, "Timers without a reply per record"), and the
/// clock's index only ever moves an entry earlier, so replies handled out of order never make a
/// timer fire late.
/// </summary>
public sealed class UserTimerReportTests : TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private static readonly long Minute = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private static readonly UserSettings Tumbling =
        new(new RuleSettings(SlidingVelocity: null), new WindowSettings(Tumbling: TimeSpan.FromMinutes(5)));

    [Fact]
    public void Records_that_leave_the_next_timer_where_the_clock_already_wakes_the_user_are_only_counted()
    {
        using var replies = new CountingReplies(((IInternalActorRef)TestActor).Provider, TestActor);
        var user = Sys.ActorOf(UserActor.PropsFor("u1", Tumbling, TimeProvider.System));
        var end = T0.AddMinutes(5).ToUnixTimeMilliseconds();

        // The first record opens a window: its end is reported.
        user.Tell(Apply("u1", 0, T0.AddMinutes(1), sequence: 1), replies);
        Assert.Equal(end - 1, ExpectMsg<TransactionApplied>().NextTimerMs);

        // More records in the same window: the clock already wakes the user at its end.
        user.Tell(Apply("u1", 1, T0.AddMinutes(2), sequence: 2), replies);
        user.Tell(Apply("u1", 2, T0.AddMinutes(3), sequence: 3), replies);

        // A wake (the index entry was taken): the window fires and the answer carries no next timer.
        user.Tell(new AdvanceTime(0, "u1", end, 0, 0), TestActor);
        var fired = ExpectMsg<TimeAdvanced>();
        Assert.Equal((3L, (long?)null), (Assert.Single(fired.Windows).Count, fired.NextTimerMs));

        // The next window's first record is reported again, since nothing wakes the user now.
        user.Tell(Apply("u1", 3, T0.AddMinutes(6), sequence: 4), replies);
        Assert.Equal(end + (5 * Minute) - 1, ExpectMsg<TransactionApplied>().NextTimerMs);
        user.Tell(Apply("u1", 4, T0.AddMinutes(7), sequence: 5), replies);
        AwaitCondition(() => replies.Counted.Count == 3);
        Assert.Equal([2L, 3L, 5L], replies.Counted.Order().ToArray());
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_record_that_moves_the_next_timer_earlier_is_reported()
    {
        using var replies = new CountingReplies(((IInternalActorRef)TestActor).Provider, TestActor);
        var user = Sys.ActorOf(UserActor.PropsFor("u2", Tumbling, TimeProvider.System));

        // A record of the second window, then one (out of order, not late) of the first: its end is earlier.
        user.Tell(Apply("u2", 0, T0.AddMinutes(6), sequence: 1), replies);
        Assert.Equal(T0.AddMinutes(10).ToUnixTimeMilliseconds() - 1, ExpectMsg<TransactionApplied>().NextTimerMs);
        user.Tell(Apply("u2", 1, T0.AddMinutes(4), sequence: 2), replies);
        Assert.Equal(T0.AddMinutes(5).ToUnixTimeMilliseconds() - 1, ExpectMsg<TransactionApplied>().NextTimerMs);
        Assert.Empty(replies.Counted);
    }

    [Fact]
    public void A_new_run_makes_the_user_report_again_since_its_clock_is_rebuilt()
    {
        using var replies = new CountingReplies(((IInternalActorRef)TestActor).Provider, TestActor);
        var user = Sys.ActorOf(UserActor.PropsFor("u3", Tumbling, TimeProvider.System));
        user.Tell(Apply("u3", 0, T0.AddMinutes(1), sequence: 1), replies);
        Assert.NotNull(ExpectMsg<TransactionApplied>().NextTimerMs);

        user.Tell(Apply("u3", 1, T0.AddMinutes(2), sequence: 2, generation: 2), replies);
        Assert.Equal(T0.AddMinutes(5).ToUnixTimeMilliseconds() - 1, ExpectMsg<TransactionApplied>().NextTimerMs);
    }

    [Fact]
    public void The_clock_moves_an_entry_only_earlier_and_a_taken_one_comes_back_with_the_users_answer()
    {
        var clock = new PartitionClock(PartitionWatermark.Initial, long.MinValue);
        clock.WakeBy("u", 500);
        clock.WakeBy("u", 900); // an older reply handled late: the earlier entry stays
        clock.WakeBy("u", null);
        Assert.Empty(clock.TakeDue(499));
        clock.WakeBy("u", 300);
        Assert.Equal(["u"], clock.TakeDue(300));
        Assert.Empty(clock.TakeDue(10_000));

        // The woken user's answer puts it back, later than before.
        clock.WakeBy("u", 2_000);
        Assert.Empty(clock.TakeDue(1_999));
        Assert.Equal(["u"], clock.TakeDue(2_000));
    }

    private static ApplyTransaction Apply(string user, long offset, DateTimeOffset ts, long sequence, long generation = 0) =>
        new(0, offset, new Transaction(user, 10m, "shop", ts), generation) { Sequence = sequence };

    /// <summary>The pipeline's reply target in small: counts quiet records, hands every answer to the test.</summary>
    private sealed class CountingReplies(IActorRefProvider provider, IActorRef test) : ReplyTarget(provider), IAppliedCounter, IDisposable
    {
        public ConcurrentQueue<long> Counted { get; } = new();

        public void Applied(long sequence) => Counted.Enqueue(sequence);

        public void Dispose() => Unregister();

        protected override void TellInternal(object message, IActorRef sender) => test.Tell(message, sender);
    }
}
