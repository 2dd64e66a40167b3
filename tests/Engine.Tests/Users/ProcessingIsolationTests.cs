using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Users;

/// <summary>
/// A record whose processing throws is that record's problem only: the user answers it as not
/// applied (it goes to the dead letters), keeps the state it had before it, and goes on; a user
/// that crashes anyway goes on from its last good state.
/// </summary>
public sealed class ProcessingIsolationTests : TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    public ProcessingIsolationTests()
        : base(OneNodeCluster.Config)
    {
    }

    [Fact]
    public void A_record_that_throws_is_answered_with_its_error_and_leaves_the_state_as_before_it()
    {
        var user = Sys.ActorOf(UserActor.PropsFor("u1", Rules(new FragileRule()), TimeProvider.System));
        var replies = new List<TransactionApplied>();
        for (var offset = 0; offset < 7; offset++)
        {
            user.Tell(Apply("u1", offset, offset == 3 ? FragileRule.Poison : 10m), TestActor);
            replies.Add(ExpectMsg<TransactionApplied>());
        }

        var poisoned = replies[3];
        Assert.Equal(3, poisoned.Offset);
        Assert.Contains("InvalidOperationException", poisoned.ProcessingError, StringComparison.Ordinal);
        Assert.Contains("poison amount", poisoned.ProcessingError, StringComparison.Ordinal);
        Assert.Empty(poisoned.Alerts);
        Assert.All(replies.Where(r => r.Offset != 3), r => Assert.Null(r.ProcessingError));

        // Six applied records within a minute: the sixth alerts, the poisoned one never counted.
        Assert.Equal(6, Assert.Single(replies[6].Alerts).Count);
        var state = State(user);
        Assert.Equal((6L, 6L), (state.TransactionCount, state.LastAppliedOffset));
        Assert.Equal(6, state.RuleStates[FragileRule.RuleName]);
    }

    [Fact]
    public void A_user_that_crashes_goes_on_from_its_last_good_state_not_from_nothing()
    {
        var fragile = new FragileRule();
        var user = Sys.ActorOf(UserActor.PropsFor("u2", Rules(fragile), TimeProvider.System));
        for (var offset = 0; offset < 4; offset++)
        {
            user.Tell(Apply("u2", offset, 10m), TestActor);
            Assert.Null(ExpectMsg<TransactionApplied>().ProcessingError);
        }

        // Encoding its state throws inside the actor, outside any record: the actor restarts.
        fragile.FailWrites = true;
        EventFilter.Exception<InvalidOperationException>().ExpectOne(() => user.Tell(new CheckpointBarrier(1, 0, "u2"), TestActor));
        fragile.FailWrites = false;

        // The replacement knows the four records: the sixth applied record alerts, at offset 5.
        user.Tell(Apply("u2", 4, 10m), TestActor);
        Assert.Empty(ExpectMsg<TransactionApplied>().Alerts);
        user.Tell(Apply("u2", 5, 10m), TestActor);
        Assert.Equal(6, Assert.Single(ExpectMsg<TransactionApplied>().Alerts).Count);
        Assert.Equal(6L, State(user).TransactionCount);
    }

    private UserState State(IActorRef user)
    {
        user.Tell(new GetUserState(0, "x"), TestActor);
        return UserStateCodec.Decode(ExpectMsg<CurrentUserState>().State, Rules(new FragileRule()));
    }

    private static UserSettings Rules(FragileRule fragile) => new RuleSettings([fragile, new SlidingVelocityRule(new VelocitySettings(5, TimeSpan.FromSeconds(60)))]);

    private static ApplyTransaction Apply(string user, long offset, decimal amount) =>
        new(0, offset, new Transaction(user, amount, "shop", T0.AddSeconds(offset)));
}
