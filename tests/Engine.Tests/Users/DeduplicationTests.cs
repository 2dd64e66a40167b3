using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rules;
using FraudActors.Engine.State;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Tests.Users;

/// <summary>
/// A record whose <c>tx_id</c> its user already applied within the dedup window (issue 8's
/// "duplicated records"): nothing sees it twice, the reply says so, and the remembered ids
/// survive a checkpoint and a restart.
/// </summary>
public sealed class DeduplicationTests() : TestKit(JournalStore.Config(JournalStore.Memory, string.Empty))
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly UserSettings Dedup = new(RuleSettings.Default, DedupWindow: TimeSpan.FromMinutes(10));

    [Fact]
    public void A_repeated_tx_id_changes_nothing_but_the_offset_and_raises_no_alert()
    {
        var state = UserState.Empty("u1");
        for (var i = 0; i < 5; i++)
        {
            state = state.Apply(Apply(i, T0.AddSeconds(i), $"t{i}"), Dedup, T0).State;
        }

        // The sixth distinct transaction alerts; the same record again would have been a sixth too.
        var repeated = state.Apply(Apply(5, T0.AddSeconds(5), "t4"), Dedup, T0);
        Assert.True(repeated.DuplicateTxId);
        Assert.Empty(repeated.Alerts);
        Assert.Equal(5, repeated.State.LastAppliedOffset);
        Assert.Equal(state.TransactionCount, repeated.State.TransactionCount);
        Assert.Equal(state.VelocityTimestamps, repeated.State.VelocityTimestamps);
        Assert.Equal(state.Profile, repeated.State.Profile);

        var sixth = repeated.State.Apply(Apply(6, T0.AddSeconds(6), "t6"), Dedup, T0);
        Assert.False(sixth.DuplicateTxId);
        Assert.Equal(6, Assert.Single(sixth.Alerts).Count);
    }

    [Fact]
    public void Ids_older_than_the_window_are_forgotten_and_records_without_an_id_are_never_duplicates()
    {
        var state = UserState.Empty("u1").Apply(Apply(0, T0, "t0"), Dedup, T0).State;
        Assert.True(state.Apply(Apply(1, T0.AddMinutes(9), "t0"), Dedup, T0).DuplicateTxId);

        var later = state.Apply(Apply(1, T0.AddMinutes(11), "t1"), Dedup, T0).State;
        Assert.Equal(["t1"], later.SeenTransactions.Select(s => s.TxId));
        Assert.False(later.Apply(Apply(2, T0.AddMinutes(11), "t0"), Dedup, T0).DuplicateTxId);

        var noId = UserState.Empty("u1").Apply(Apply(0, T0, null), Dedup, T0);
        Assert.False(noId.State.Apply(Apply(1, T0, null), Dedup, T0).DuplicateTxId);
        Assert.Empty(noId.State.SeenTransactions);

        // Without a window (the default of UserSettings) nothing is remembered.
        var off = UserState.Empty("u1").Apply(Apply(0, T0, "t0"), RuleSettings.Default, T0).State;
        Assert.False(off.Apply(Apply(1, T0, "t0"), RuleSettings.Default, T0).DuplicateTxId);
    }

    [Fact]
    public void The_remembered_ids_round_trip_through_the_codec_and_older_states_load_without_them()
    {
        var state = UserState.Empty("u1").Apply(Apply(0, T0, "t0"), Dedup, T0).State.Apply(Apply(1, T0.AddSeconds(1), "t1"), Dedup, T0).State;
        var bytes = UserStateCodec.Encode(state, Dedup);
        Assert.Equal(UserStateCodec.Version4, bytes[0]);
        Assert.Equal(state.SeenTransactions.ToArray(), UserStateCodec.Decode(bytes, Dedup).SeenTransactions.ToArray());

        var ttl = state with { SeenTransactions = [] };
        Assert.Empty(UserStateCodec.Decode(UserStateCodec.Encode(ttl, Dedup), Dedup).SeenTransactions);
    }

    [Fact]
    public async Task A_user_restarted_from_its_checkpoint_still_knows_the_ids_and_says_duplicate_in_its_reply()
    {
        var journals = new PartitionJournals(Sys, "t" + Guid.NewGuid().ToString("N")[..8], new PartitionJournalSettings());
        var first = Sys.ActorOf(UserActor.PropsFor("u1", Dedup, TimeProvider.System, journals));
        first.Tell(Apply(0, T0, "t0"), TestActor);
        Assert.False(ExpectMsg<TransactionApplied>().DuplicateTxId);

        first.Tell(new CheckpointBarrier(1, 0, "u1"), TestActor);
        var checkpointed = ExpectMsg<UserCheckpointState>();
        await journals.For(0).Ask<CheckpointWritten>(new WriteCheckpoint(1, 1, [new UserSnapshot("u1", checkpointed.State)]), Timeout);
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);

        var second = Sys.ActorOf(UserActor.PropsFor("u1", Dedup, TimeProvider.System, journals));
        second.Tell(Apply(1, T0.AddSeconds(1), "t0"), TestActor);
        var reply = ExpectMsg<TransactionApplied>();
        Assert.True(reply.DuplicateTxId);
        Assert.False(reply.Duplicate);
        Assert.Empty(reply.Alerts);
    }

    private static ApplyTransaction Apply(long offset, DateTimeOffset ts, string? txId) =>
        new(0, offset, new Transaction("u1", 10m, "shop", ts, txId));
}
