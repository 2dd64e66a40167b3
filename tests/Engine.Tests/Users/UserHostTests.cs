using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Users;

/// <summary>
/// A shard's users as children of its host: forwarding with the sender kept, passivation that
/// hands state over and keeps the messages that come meanwhile in order, hand-off, and the
/// pipeline's choice of telling the host directly (docs/design.md, "Direct delivery").
/// </summary>
public sealed class UserHostTests() : TestKit(OneNodeCluster.Config)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_host_starts_each_user_on_its_first_message_and_forwards_what_comes_for_it_with_the_sender_kept()
    {
        var host = Sys.ActorOf(UserHost.PropsFor(id => UserActor.PropsFor(id, RuleSettings.Default, TimeProvider.System), TimeSpan.Zero));
        for (var i = 0; i < 6; i++)
        {
            host.Tell(Apply("u1", i, T0.AddSeconds(i)), TestActor);
            host.Tell(Apply("u2", i, T0.AddMinutes(i)), TestActor);
        }

        var replies = ReceiveN(12).Cast<TransactionApplied>().ToList();
        Assert.Equal([0L, 1, 2, 3, 4, 5], replies.Where(r => r.UserId == "u1").Select(r => r.Offset));
        Assert.Equal(6, Assert.Single(replies.Single(r => r.UserId == "u1" && r.Offset == 5).Alerts).Count);
        Assert.All(replies.Where(r => r.UserId == "u2"), r => Assert.Empty(r.Alerts));

        host.Tell(new GetUserState(0, "u1"), TestActor);
        var state = ExpectMsg<CurrentUserState>();
        Assert.Equal(("u1", 5L, 6L), (state.UserId, state.LastAppliedOffset, UserStateCodec.Decode(state.State).TransactionCount));
    }

    [Fact]
    public void An_idle_user_hands_its_state_over_and_what_comes_for_it_meanwhile_goes_in_order_to_its_next_incarnation()
    {
        var journal = CreateTestProbe();
        var host = Sys.ActorOf(UserHost.PropsFor(id => UserActor.PropsFor(id, RuleSettings.Default, TimeProvider.System, new ProbeJournals(journal.Ref)), TimeSpan.FromMilliseconds(200)));
        host.Tell(Apply("u7", 0, T0), TestActor);
        var load = journal.ExpectMsg<LoadUser>();
        journal.Reply(new UserLoaded("u7", null, load.Load));
        Assert.Equal(0, ExpectMsg<TransactionApplied>().Offset);

        // Idle: the host stops it, and it first hands its state to the journal.
        var handOver = journal.ExpectMsg<HandOverUser>(TimeSpan.FromSeconds(10));
        var handingOver = journal.LastSender;
        Assert.Equal(0, UserStateCodec.Decode(handOver.State).LastAppliedOffset);

        // Records that come while it hands over wait for its next incarnation.
        host.Tell(Apply("u7", 1, T0.AddSeconds(1)), TestActor);
        host.Tell(Apply("u7", 2, T0.AddSeconds(2)), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        journal.ExpectNoMsg(TimeSpan.Zero);

        handingOver.Tell(new UserHandedOver("u7"));
        var reload = journal.ExpectMsg<LoadUser>();
        journal.Reply(new UserLoaded("u7", handOver.State, reload.Load));
        var applied = ReceiveN(2).Cast<TransactionApplied>().ToList();
        Assert.Equal([(1L, false), (2L, false)], applied.Select(a => (a.Offset, a.Duplicate)));

        host.Tell(new GetUserState(0, "u7"), TestActor);
        Assert.Equal(3, UserStateCodec.Decode(ExpectMsg<CurrentUserState>().State).TransactionCount);
    }

    [Fact]
    public void On_hand_off_every_user_hands_its_state_over_before_the_host_stops()
    {
        var journal = CreateTestProbe();
        var host = Sys.ActorOf(UserHost.PropsFor(id => UserActor.PropsFor(id, RuleSettings.Default, TimeProvider.System, new ProbeJournals(journal.Ref)), TimeSpan.Zero));
        Watch(host);
        foreach (var user in new[] { "u1", "u2" })
        {
            host.Tell(Apply(user, 0, T0), TestActor);
            var load = journal.ExpectMsg<LoadUser>();
            journal.Reply(new UserLoaded(user, null, load.Load));
            ExpectMsg<TransactionApplied>();
        }

        host.Tell(StopUser.Instance);
        var handOvers = new List<(string User, IActorRef From)>();
        for (var i = 0; i < 2; i++)
        {
            handOvers.Add((journal.ExpectMsg<HandOverUser>().UserId, journal.LastSender));
        }

        Assert.Equal(["u1", "u2"], handOvers.Select(h => h.User).Order());
        handOvers[0].From.Tell(new UserHandedOver(handOvers[0].User));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        handOvers[1].From.Tell(new UserHandedOver(handOvers[1].User));
        ExpectTerminated(host);
    }

    [Fact]
    public async Task A_run_tells_the_partitions_host_directly_once_it_runs_here_and_keeps_one_path_per_partition_for_the_run()
    {
        var region = await OneNodeCluster.StartUsersAsync(Sys, "direct-user");
        var delivery = new UserDelivery(region);

        // No host runs yet: this run goes through the region, and keeps doing so.
        var first = new RunState(1);
        Assert.Same(region, delivery.For(first, 0));
        await delivery.WakeAsync(0, TimeSpan.FromSeconds(10));
        Assert.Same(region, delivery.For(first, 0));

        // The next run finds the host on this node and tells it.
        var next = new RunState(2);
        var host = delivery.For(next, 0);
        Assert.NotSame(region, host);
        Assert.Equal("0", host.Path.Parent.Name);
        host.Tell(Apply("u1", 0, T0), TestActor);
        Assert.Equal(0, ExpectMsg<TransactionApplied>().Offset);
        Assert.Equal(1, UserHostRegistry.Users(region));

        // A partition that leaves the run and comes back is looked up again.
        UserDelivery.Forget(first, 0);
        Assert.Same(host, delivery.For(first, 0));
    }

    private static ApplyTransaction Apply(string user, long offset, DateTimeOffset ts) =>
        new(0, offset, new Transaction(user, 10m, "shop", ts));
}
