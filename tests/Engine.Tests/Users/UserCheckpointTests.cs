using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Users;

/// <summary>A user actor with its partition journal: load on start, barrier replies, hand-over before stopping, reload on rewind.</summary>
public sealed class UserCheckpointTests() : TestKit(JournalStore.Config(JournalStore.Memory, string.Empty))
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    [Fact]
    public async Task A_user_starts_from_its_checkpointed_state_and_skips_what_it_already_applied()
    {
        var journals = Journals();

        // Checkpointed: five transactions in the last minute, the last at offset 4.
        var state = new UserState("u1", 4).WithRuleState(SlidingVelocityRule.RuleName, ImmutableArray.CreateRange(Enumerable.Range(0, 5).Select(i => T0.AddSeconds(i).ToUnixTimeMilliseconds())));
        await journals.For(0).Ask<CheckpointWritten>(new WriteCheckpoint(1, 5, [new UserSnapshot("u1", UserStateCodec.Encode(state))]), Timeout);

        var user = Sys.ActorOf(UserActor.PropsFor("u1", RuleSettings.Default, TimeProvider.System, journals));
        user.Tell(Apply("u1", 3, T0.AddSeconds(3)), TestActor);
        Assert.True(ExpectMsg<TransactionApplied>().Duplicate);

        user.Tell(Apply("u1", 5, T0.AddSeconds(5)), TestActor);
        var sixth = ExpectMsg<TransactionApplied>();
        Assert.False(sixth.Duplicate);
        Assert.Equal(6, Assert.Single(sixth.Alerts).Count);
    }

    [Fact]
    public void A_barrier_gets_the_state_as_of_the_records_before_it()
    {
        var user = Sys.ActorOf(UserActor.PropsFor("u2", RuleSettings.Default, TimeProvider.System, Journals()));
        user.Tell(Apply("u2", 7, T0), TestActor);
        user.Tell(Apply("u2", 9, T0.AddSeconds(1)), TestActor);
        user.Tell(new CheckpointBarrier(3, 0, "u2"), TestActor);
        user.Tell(Apply("u2", 12, T0.AddSeconds(2)), TestActor);

        ExpectMsg<TransactionApplied>();
        ExpectMsg<TransactionApplied>();
        var reply = ExpectMsg<UserCheckpointState>();
        Assert.Equal(("u2", 0, 3L, 9L), (reply.UserId, reply.Partition, reply.Epoch, reply.LastAppliedOffset));
        var state = UserStateCodec.Decode(reply.State);
        Assert.Equal(9, state.LastAppliedOffset);
        Assert.Equal(2, state.VelocityTimestamps.Length);
        Assert.Equal(2, state.TransactionCount);
        Assert.Equal(12, ExpectMsg<TransactionApplied>().Offset);
    }

    [Fact]
    public async Task A_stopping_user_hands_its_state_to_the_journal_and_its_next_incarnation_continues_from_it()
    {
        var journals = Journals();
        var user = Sys.ActorOf(UserActor.PropsFor("u3", RuleSettings.Default, TimeProvider.System, journals));
        for (var offset = 0; offset < 5; offset++)
        {
            user.Tell(Apply("u3", offset, T0.AddSeconds(offset)), TestActor);
        }

        ReceiveN(5);
        Watch(user);
        user.Tell(StopUser.Instance);
        await ExpectTerminatedAsync(user, Timeout);

        var handed = await journals.For(0).Ask<UserLoaded>(new LoadUser("u3"), Timeout);
        Assert.Equal((4L, 5L), (UserStateCodec.Decode(handed.State!).LastAppliedOffset, UserStateCodec.Decode(handed.State!).TransactionCount));

        var again = Sys.ActorOf(UserActor.PropsFor("u3", RuleSettings.Default, TimeProvider.System, journals));
        again.Tell(Apply("u3", 5, T0.AddSeconds(5)), TestActor);
        Assert.Equal(6, Assert.Single(ExpectMsg<TransactionApplied>().Alerts).Count);
    }

    [Fact]
    public async Task A_newer_generation_makes_the_user_reload_its_checkpointed_state()
    {
        var journals = Journals();
        var user = Sys.ActorOf(UserActor.PropsFor("u4", RuleSettings.Default, TimeProvider.System, journals));
        for (var offset = 0; offset < 3; offset++)
        {
            user.Tell(Apply("u4", offset, T0.AddSeconds(offset)), TestActor);
        }

        ReceiveN(3);

        // The partition rewinds to its last checkpoint, which never saw u4: offsets 0..2 apply again.
        await journals.For(0).Ask<PartitionCheckpoint>(RewindPartition.Instance, Timeout);
        user.Tell(Apply("u4", 0, T0, generation: 1), TestActor);
        var replayed = ExpectMsg<TransactionApplied>();
        Assert.False(replayed.Duplicate);
    }

    [Fact]
    public void Another_nodes_generation_makes_the_user_reload_even_when_it_is_lower()
    {
        // Generations are random per run and node: what matters is that it changed, not its size.
        var journals = Journals();
        var user = Sys.ActorOf(UserActor.PropsFor("u6", RuleSettings.Default, TimeProvider.System, journals));
        for (var offset = 0; offset < 3; offset++)
        {
            user.Tell(Apply("u6", offset, T0.AddSeconds(offset), generation: 900), TestActor);
        }

        ReceiveN(3);

        // The node that read the partition died before a checkpoint; the next owner's run has a
        // lower generation and starts again at offset 0: the user reloads (nothing committed) and applies it.
        user.Tell(Apply("u6", 0, T0, generation: 17), TestActor);
        var replayed = ExpectMsg<TransactionApplied>();
        Assert.False(replayed.Duplicate);
        user.Tell(new CheckpointBarrier(1, 0, "u6"), TestActor);
        Assert.Equal(0, ExpectMsg<UserCheckpointState>().LastAppliedOffset);
    }

    [Fact]
    public async Task A_user_woken_by_its_partition_clock_fires_its_window_once_and_a_restarted_user_still_has_it_due()
    {
        var journals = Journals();
        var settings = new UserSettings(new RuleSettings(SlidingVelocity: null), new WindowSettings(Tumbling: TimeSpan.FromMinutes(5)));
        var user = Sys.ActorOf(UserActor.PropsFor("u5", settings, TimeProvider.System, journals));
        var end = T0.AddMinutes(5).ToUnixTimeMilliseconds();
        user.Tell(Apply("u5", 0, T0.AddMinutes(1)), TestActor);
        Assert.Equal(end - 1, ExpectMsg<TransactionApplied>().NextTimerMs);

        // Checkpointed before the window's end: the journal indexes the user as due then.
        user.Tell(new CheckpointBarrier(1, 0, "u5"), TestActor);
        var state = ExpectMsg<UserCheckpointState>();
        await journals.For(0).Ask<CheckpointWritten>(new WriteCheckpoint(1, 1, [new UserSnapshot("u5", state.State)], end - 60_000), Timeout);
        var checkpoint = await journals.For(0).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal([new UserTimerDue("u5", end - 1)], checkpoint.Timers);

        // The clock passes the window's end: it fires once.
        user.Tell(new AdvanceTime(0, "u5", end, 0, 0), TestActor);
        var fired = ExpectMsg<TimeAdvanced>();
        Assert.Equal((1L, (long?)null), (Assert.Single(fired.Windows).Count, fired.NextTimerMs));
        user.Tell(new AdvanceTime(0, "u5", end + 1, 0, 0), TestActor);
        Assert.Empty(ExpectMsg<TimeAdvanced>().Windows);

        // Another incarnation from the checkpoint (a restart) has the window again, and fires it with the same id.
        var again = Sys.ActorOf(UserActor.PropsFor("u5", settings, TimeProvider.System, journals));
        again.Tell(new AdvanceTime(0, "u5", end, 0, 0), TestActor);
        Assert.Equal(Assert.Single(fired.Windows).ResultId, Assert.Single(ExpectMsg<TimeAdvanced>().Windows).ResultId);
    }

    [Fact]
    public void A_user_whose_load_went_unanswered_asks_again_when_a_new_run_reaches_it_and_takes_only_that_answer()
    {
        // The journal is a probe: the first request is "lost" (its answer held back), as when a
        // journal restarts or its shard moves; the stream times out and restarts (generation 2).
        var journal = CreateTestProbe();
        var user = Sys.ActorOf(UserActor.PropsFor("u9", RuleSettings.Default, TimeProvider.System, new ProbeJournals(journal.Ref)));
        user.Tell(Apply("u9", 3, T0, generation: 1), TestActor);
        var first = journal.ExpectMsg<LoadUser>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        user.Tell(Apply("u9", 3, T0, generation: 2), TestActor);
        var second = journal.ExpectMsg<LoadUser>();
        Assert.NotEqual(first.Load, second.Load);

        // The late answer to the first request carries state the rewind has dropped: ignored.
        var stale = new UserState("u9", 40);
        journal.Reply(new UserLoaded("u9", UserStateCodec.Encode(stale), first.Load));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        journal.Reply(new UserLoaded("u9", null, second.Load));

        // Both records waited in the stash: the first run's applies to the loaded state (not the
        // stale one: offset 3 is new to it); the second run's rewinds the user as any new run does.
        var applied = ExpectMsg<TransactionApplied>();
        Assert.Equal((3L, false), (applied.Offset, applied.Duplicate));
        var third = journal.ExpectMsg<LoadUser>();
        journal.Reply(new UserLoaded("u9", null, third.Load));
        applied = ExpectMsg<TransactionApplied>();
        Assert.Equal((3L, false), (applied.Offset, applied.Duplicate));
        journal.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Records_that_waited_for_a_state_that_could_not_be_read_are_applied_in_order_by_the_restarted_user()
    {
        var journal = CreateTestProbe();
        var user = Sys.ActorOf(UserActor.PropsFor("u10", RuleSettings.Default, TimeProvider.System, new ProbeJournals(journal.Ref)));
        for (var offset = 5; offset < 8; offset++)
        {
            user.Tell(Apply("u10", offset, T0.AddSeconds(offset), generation: 1), TestActor);
        }

        // The state's bytes are not a state: decoding throws, the actor restarts.
        var first = journal.ExpectMsg<LoadUser>();
        journal.Reply(new UserLoaded("u10", [0xFF, 0xFF, 0xFF], first.Load));

        // The restarted user takes the three waiting records again: the first asks for the state.
        var second = journal.ExpectMsg<LoadUser>();
        journal.Reply(new UserLoaded("u10", UserStateCodec.Encode(new UserState("u10", 4)), second.Load));
        var offsets = ReceiveN(3).Cast<TransactionApplied>().Select(a => (a.Offset, a.Duplicate, a.Lost)).ToArray();
        Assert.Equal([(5L, false, (string?)null), (6L, false, null), (7L, false, null)], offsets);
    }

    private PartitionJournals Journals() =>
        new(Sys, "t" + Guid.NewGuid().ToString("N")[..8], new PartitionJournalSettings());

    private static ApplyTransaction Apply(string user, long offset, DateTimeOffset ts, long generation = 0) =>
        new(0, offset, new Transaction(user, 10m, "shop", ts), generation);
}
