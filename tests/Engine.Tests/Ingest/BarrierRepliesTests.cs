using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Ingest;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Ingest;

/// <summary>One partition cut's reply target: every changed user's state, however the replies race.</summary>
public sealed class BarrierRepliesTests : TestKit
{
    [Fact]
    public async Task States_answered_from_many_threads_at_once_are_all_there_when_it_completes()
    {
        for (var round = 0; round < 20; round++)
        {
            const int users = 20_000;
            var replies = new BarrierReplies(((ExtendedActorSystem)Sys).Provider, users, TimeSpan.FromSeconds(30));
            Parallel.For(0, users, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
                replies.Tell(new UserCheckpointState($"u{i}", 0, round, i, [(byte)i]), ActorRefs.NoSender));

            var states = await replies.States;

            Assert.Equal(users, states.Length);
            Assert.All(states, Assert.NotNull);
            Assert.Equal(users, states.Select(s => s.UserId).Distinct().Count());
        }
    }

    [Fact]
    public async Task A_cut_without_users_completes_at_once_and_a_missing_user_times_out_naming_how_many()
    {
        Assert.Empty(await new BarrierReplies(((ExtendedActorSystem)Sys).Provider, 0, TimeSpan.FromSeconds(30)).States);

        var replies = new BarrierReplies(((ExtendedActorSystem)Sys).Provider, 2, TimeSpan.FromMilliseconds(300));
        replies.Tell(new UserCheckpointState("u1", 0, 1, 5, [1]), ActorRefs.NoSender);
        var timeout = await Assert.ThrowsAsync<AskTimeoutException>(() => replies.States);
        Assert.Contains("1 of 2 user(s)", timeout.Message, StringComparison.Ordinal);
    }
}
