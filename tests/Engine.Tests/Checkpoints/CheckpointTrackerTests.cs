using FraudActors.Engine.Checkpoints;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>Barrier bookkeeping: dirty users per partition, replies, timeouts and loss in transit.</summary>
public sealed class CheckpointTrackerTests
{
    [Fact]
    public void A_cut_expects_each_dirty_user_of_its_partition_with_the_last_offset_sent()
    {
        var tracker = new CheckpointTracker();
        tracker.Sent(0, "u1", 10);
        tracker.Sent(1, "u2", 11);
        tracker.Sent(0, "u3", 12);
        tracker.Sent(0, "u1", 13);

        var cut = tracker.Cut(1, 0);

        Assert.Equal(14, cut.NextOffset);
        Assert.Equal(new Dictionary<string, long> { ["u1"] = 13, ["u3"] = 12 }, cut.Expected);
        Assert.Equal([1], tracker.Partitions);
    }

    [Fact]
    public void After_a_cut_the_partition_starts_clean_and_records_skipped_to_the_dlq_still_move_the_offset()
    {
        var tracker = new CheckpointTracker();
        tracker.Sent(0, "u1", 1);
        tracker.Cut(1, 0);
        Assert.Empty(tracker.Partitions);
        Assert.Throws<InvalidOperationException>(() => tracker.Cut(2, 0));

        tracker.Skipped(0, 2);
        var cut = tracker.Cut(2, 0);
        Assert.Equal(3, cut.NextOffset);
        Assert.Empty(cut.Expected);
        Assert.True(CheckpointTracker.Verify(cut, []).IsComplete);
    }

    [Fact]
    public void A_user_woken_by_its_clock_is_collected_at_the_next_cut_whatever_offset_it_applied_last()
    {
        var tracker = new CheckpointTracker();

        // Nothing committed and nothing read: no position to cut at, the wake-up waits.
        Assert.False(tracker.Touched(0, "u1"));
        Assert.Empty(tracker.Partitions);

        // Resumed at offset 40 (its last commit): a timer's wake-up alone makes a cut there.
        tracker.Started(0, 40);
        Assert.True(tracker.Touched(0, "u1"));
        var cut = tracker.Cut(1, 0);
        Assert.Equal(40, cut.NextOffset);
        Assert.Equal(CheckpointTracker.AnyOffset, cut.Expected["u1"]);
        Assert.True(CheckpointTracker.Verify(cut, [Reply("u1", 1, 0, 17, 1)]).IsComplete);

        // A record sent to the user keeps its offset expected, before or after a wake-up.
        tracker.Sent(0, "u2", 41);
        tracker.Touched(0, "u2");
        tracker.Touched(0, "u3");
        tracker.Sent(0, "u3", 42);
        var next = tracker.Cut(2, 0);
        Assert.Equal((43L, 41L, 42L), (next.NextOffset, next.Expected["u2"], next.Expected["u3"]));
        Assert.False(CheckpointTracker.Verify(next, [Reply("u2", 2, 0, 40, 1), Reply("u3", 2, 0, 42, 1)]).IsComplete);
    }

    [Fact]
    public void Matching_replies_complete_the_cut_with_every_state()
    {
        var cut = new BarrierCut(5, 0, 21, new Dictionary<string, long> { ["u1"] = 13, ["u3"] = 20 });
        var outcome = CheckpointTracker.Verify(cut, [Reply("u1", 5, 0, 13, 1), Reply("u3", 5, 0, 20, 3)]);
        Assert.True(outcome.IsComplete);
        Assert.Equal(["u1", "u3"], outcome.States.Select(s => s.UserId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_user_that_did_not_answer_breaks_the_cut()
    {
        var cut = new BarrierCut(5, 0, 21, new Dictionary<string, long> { ["u1"] = 13, ["u3"] = 20 });
        var outcome = CheckpointTracker.Verify(cut, [Reply("u1", 5, 0, 13, 1)]);
        Assert.False(outcome.IsComplete);
        Assert.Contains("u3", outcome.Broken, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_behind_the_last_offset_sent_to_it_reveals_a_lost_record()
    {
        var cut = new BarrierCut(5, 0, 21, new Dictionary<string, long> { ["u1"] = 13 });
        var outcome = CheckpointTracker.Verify(cut, [Reply("u1", 5, 0, 9, 1)]);
        Assert.False(outcome.IsComplete);
        Assert.Contains("lost", outcome.Broken, StringComparison.Ordinal);
        Assert.Empty(outcome.States);
    }

    [Fact]
    public void A_reply_to_another_epoch_or_partition_breaks_the_cut()
    {
        var cut = new BarrierCut(5, 0, 21, new Dictionary<string, long> { ["u1"] = 13 });
        Assert.False(CheckpointTracker.Verify(cut, [Reply("u1", 4, 0, 13, 1)]).IsComplete);
        Assert.False(CheckpointTracker.Verify(cut, [Reply("u1", 5, 1, 13, 1)]).IsComplete);
    }

    [Fact]
    public void Forgetting_a_partition_drops_its_dirty_users()
    {
        var tracker = new CheckpointTracker();
        tracker.Sent(2, "u1", 1);
        tracker.Forget(2);
        Assert.Empty(tracker.Partitions);
    }

    [Fact]
    public void A_record_names_the_one_sent_to_its_user_before_it_within_the_interval()
    {
        var tracker = new CheckpointTracker();
        Assert.Null(tracker.Sent(0, "u1", 4));
        Assert.Null(tracker.Sent(0, "u2", 5));
        Assert.Null(tracker.Sent(1, "u1", 6));
        Assert.Equal(4, tracker.Sent(0, "u1", 7));
        Assert.Equal(6, tracker.Sent(1, "u1", 8));

        // After the cut the barrier has checked it; woken by its clock only, nothing was sent.
        tracker.Cut(1, 0);
        Assert.Null(tracker.Sent(0, "u1", 9));
        Assert.True(tracker.Touched(0, "u2"));
        Assert.Null(tracker.Sent(0, "u2", 10));
        Assert.Equal(10, tracker.Sent(0, "u2", 11));
    }

    private static UserCheckpointState Reply(string user, long epoch, int partition, long applied, byte state) =>
        new(user, partition, epoch, applied, [state]);
}
