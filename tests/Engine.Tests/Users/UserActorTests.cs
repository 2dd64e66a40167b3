using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Transactions;

using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Users;

/// <summary>User actors for real: behind a shard region of a one-node cluster.</summary>
public sealed class UserActorTests : TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    public UserActorTests()
        : base(OneNodeCluster.Config)
    {
    }

    [Fact]
    public void A_user_alerts_on_its_sixth_transaction_and_replies_to_every_one()
    {
        var user = Sys.ActorOf(UserActor.PropsFor("u901", RuleSettings.Default, TimeProvider.System));
        for (var offset = 0; offset < 5; offset++)
        {
            user.Tell(Apply("u901", 0, offset, T0.AddSeconds(offset)), TestActor);
            var reply = ExpectMsg<TransactionApplied>();
            Assert.Equal(offset, reply.Offset);
            Assert.Empty(reply.Alerts);
            Assert.False(reply.Duplicate);
        }

        user.Tell(Apply("u901", 0, 5, T0.AddSeconds(5)), TestActor);
        var sixth = ExpectMsg<TransactionApplied>();
        Assert.Equal(6, Assert.Single(sixth.Alerts).Count);
    }

    [Fact]
    public void A_replayed_offset_changes_nothing_and_repeats_its_alerts_with_the_same_ids()
    {
        var user = Sys.ActorOf(UserActor.PropsFor("u1", RuleSettings.Default, TimeProvider.System));
        for (var offset = 0; offset < 6; offset++)
        {
            user.Tell(Apply("u1", 0, offset, T0.AddSeconds(offset)), TestActor);
        }

        var first = ReceiveN(6).Cast<TransactionApplied>().Last();
        var alert = Assert.Single(first.Alerts);

        // Offsets 0..5 again, as after a stream restart from an older committed offset.
        for (var offset = 0; offset < 6; offset++)
        {
            user.Tell(Apply("u1", 0, offset, T0.AddSeconds(offset)), TestActor);
        }

        var replays = ReceiveN(6).Cast<TransactionApplied>().ToList();
        Assert.All(replays, r => Assert.True(r.Duplicate));
        Assert.Equal(alert.AlertId, Assert.Single(replays[5].Alerts).AlertId);
        Assert.All(replays.Take(5), r => Assert.Empty(r.Alerts));

        // The replays did not count: the next transaction is the seventh, not the thirteenth.
        user.Tell(Apply("u1", 0, 6, T0.AddSeconds(6)), TestActor);
        Assert.Equal(7, Assert.Single(ExpectMsg<TransactionApplied>().Alerts).Count);
    }

    [Fact]
    public async Task The_shard_region_routes_each_user_to_its_own_actor_so_users_never_affect_each_other()
    {
        var region = await OneNodeCluster.StartUsersAsync(Sys);

        // u1 and u2 share partition 0, u3 is on partition 1; each makes 5 transactions within 10 s.
        var users = new[] { ("u1", 0), ("u2", 0), ("u3", 1) };
        var offset = 0L;
        for (var i = 0; i < 5; i++)
        {
            foreach (var (user, partition) in users)
            {
                region.Tell(Apply(user, partition, offset++, T0.AddSeconds(i)), TestActor);
            }
        }

        var replies = ReceiveN(15, TimeSpan.FromSeconds(20)).Cast<TransactionApplied>().ToList();
        Assert.All(replies, r => Assert.Empty(r.Alerts));

        region.Tell(Apply("u2", 0, offset, T0.AddSeconds(6)), TestActor);
        var alert = Assert.Single(ExpectMsg<TransactionApplied>().Alerts);
        Assert.Equal(("u2", 6), (alert.UserId, alert.Count));
    }

    [Fact]
    public async Task Idle_users_are_passivated_after_handing_their_state_to_the_partition_journal()
    {
        var journals = new PartitionJournals(Sys, "transactions", new PartitionJournalSettings());
        var region = await OneNodeCluster.StartUsersAsync(Sys, "idle-user", passivateIdleAfter: TimeSpan.FromMilliseconds(500), journals: journals);
        region.Tell(Apply("u7", 0, 0, T0), TestActor);
        region.Tell(Apply("u7", 0, 1, T0.AddSeconds(1)), TestActor);
        ExpectMsg<TransactionApplied>();
        ExpectMsg<TransactionApplied>();

        // The shard's one entity is the users' host; it counts its users.
        Assert.Equal(1, UserHostRegistry.Users(region));
        await AwaitConditionAsync(() => Task.FromResult(UserHostRegistry.Users(region) == 0), TimeSpan.FromSeconds(20));

        // No checkpoint ran, yet the journal holds what the user had when sharding stopped it.
        var handed = await journals.For(0).Ask<UserLoaded>(new LoadUser("u7"), TimeSpan.FromSeconds(10));
        var state = UserStateCodec.Decode(handed.State!);
        Assert.Equal((1L, 2L), (state.LastAppliedOffset, state.TransactionCount));

        // Its next incarnation continues from it: a replay is skipped, a new record counts on.
        region.Tell(Apply("u7", 0, 1, T0.AddSeconds(1)), TestActor);
        Assert.True(ExpectMsg<TransactionApplied>().Duplicate);
        region.Tell(Apply("u7", 0, 2, T0.AddSeconds(2)), TestActor);
        Assert.False(ExpectMsg<TransactionApplied>().Duplicate);
    }

    [Fact]
    public void A_user_that_missed_a_record_applies_nothing_more_of_the_run_and_says_so()
    {
        var user = Sys.ActorOf(UserActor.PropsFor("u5", RuleSettings.Default, TimeProvider.System));
        user.Tell(Apply("u5", 0, 3, T0) with { Generation = 1 }, TestActor);
        Assert.Null(ExpectMsg<TransactionApplied>().Lost);
        user.Tell(Apply("u5", 0, 5, T0.AddSeconds(1)) with { Generation = 1, PreviousOffset = 3 }, TestActor);
        Assert.Null(ExpectMsg<TransactionApplied>().Lost);

        // Offset 8 was sent before 9 but never arrived: 9 is not applied, nor anything after it in the run.
        user.Tell(Apply("u5", 0, 9, T0.AddSeconds(2)) with { Generation = 1, PreviousOffset = 8 }, TestActor);
        Assert.Contains("offset 8 was sent before offset 9", ExpectMsg<TransactionApplied>().Lost);
        user.Tell(Apply("u5", 0, 10, T0.AddSeconds(3)) with { Generation = 1, PreviousOffset = 9 }, TestActor);
        Assert.NotNull(ExpectMsg<TransactionApplied>().Lost);
        user.Tell(new GetUserState(0, "u5"), TestActor);
        var state = UserStateCodec.Decode(ExpectMsg<CurrentUserState>().State);
        Assert.Equal((5L, 2L), (state.LastAppliedOffset, state.TransactionCount));
    }

    [Fact]
    public void A_user_woken_by_its_clock_after_a_record_it_never_got_fires_nothing_and_says_so()
    {
        var settings = new UserSettings(RuleSettings.Default, new FraudActors.Engine.Windows.WindowSettings(Tumbling: TimeSpan.FromMinutes(5)));
        var user = Sys.ActorOf(UserActor.PropsFor("u6", settings, TimeProvider.System));
        user.Tell(Apply("u6", 0, 3, T0) with { Generation = 1 }, TestActor);
        Assert.Null(ExpectMsg<TransactionApplied>().Lost);

        // Offset 4 was sent and lost; the wake past the window's end must not close it without it.
        var end = T0.AddMinutes(10).ToUnixTimeMilliseconds();
        user.Tell(new AdvanceTime(0, "u6", end, 0, 1) { PreviousOffset = 4 }, TestActor);
        var woken = ExpectMsg<TimeAdvanced>();
        Assert.Contains("offset 4 was sent before the clock woke it", woken.Lost);
        Assert.Empty(woken.Windows);

        // A wake naming an offset the user has applied (or a replayed one below it) fires as usual, in a new run.
        user.Tell(new AdvanceTime(0, "u6", end, 0, 2) { PreviousOffset = 3 }, TestActor);
        var fired = ExpectMsg<TimeAdvanced>();
        Assert.Null(fired.Lost);
        Assert.Single(fired.Windows);
    }

    [Fact]
    public void A_barrier_naming_an_offset_the_user_never_applied_stops_it_applying_the_rest_of_the_run()
    {
        var user = Sys.ActorOf(UserActor.PropsFor("u8", RuleSettings.Default, TimeProvider.System));
        user.Tell(Apply("u8", 0, 3, T0) with { Generation = 1 }, TestActor);
        Assert.Null(ExpectMsg<TransactionApplied>().Lost);
        user.Tell(new CheckpointBarrier(7, 0, "u8") { ExpectedOffset = 5 }, TestActor);
        Assert.Equal(3, ExpectMsg<UserCheckpointState>().LastAppliedOffset);

        // After the barrier, a record with no earlier one in the interval: still refused in this run.
        user.Tell(Apply("u8", 0, 6, T0.AddSeconds(1)) with { Generation = 1 }, TestActor);
        Assert.NotNull(ExpectMsg<TransactionApplied>().Lost);
        user.Tell(new AdvanceTime(0, "u8", T0.AddMinutes(1).ToUnixTimeMilliseconds(), 0, 1), TestActor);
        Assert.NotNull(ExpectMsg<TimeAdvanced>().Lost);
    }

    private static ApplyTransaction Apply(string user, int partition, long offset, DateTimeOffset ts) =>
        new(partition, offset, new Transaction(user, 10m, "shop", ts));
}
