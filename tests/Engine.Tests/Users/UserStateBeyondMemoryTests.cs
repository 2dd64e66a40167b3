using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Users;

/// <summary>
/// Users whose state is only in the store (docs/design.md, "State beyond memory"): on SQLite,
/// with a state cache too small for any state, so every start after a commit reads the store.
/// </summary>
public sealed class UserStateBeyondMemoryTests() : TestKit(ConfigurationFactory.ParseString("fraud.state.cache-bytes = 0")
    .WithFallback(JournalStore.Config(JournalStore.Sqlite, $"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-beyond-{Guid.NewGuid():N}.db")}")))
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_user_evicted_from_memory_comes_back_from_the_store_and_continues_from_its_state()
    {
        var topic = "t" + Guid.NewGuid().ToString("N")[..8];
        var journals = new PartitionJournals(Sys, topic, new PartitionJournalSettings());
        var user = Sys.ActorOf(UserActor.PropsFor("u1", RuleSettings.Default, TimeProvider.System, journals));
        for (var offset = 0; offset < 5; offset++)
        {
            user.Tell(Apply(offset, T0.AddSeconds(offset)), TestActor);
        }

        ReceiveN(5);

        // Its checkpoint, then the store holds it and memory does not: the state left the
        // journal's recent states, and the cache keeps nothing.
        user.Tell(new CheckpointBarrier(1, 0, "u1"), TestActor);
        var reply = ExpectMsg<UserCheckpointState>();
        await journals.For(0).Ask<CheckpointWritten>(new WriteCheckpoint(1, 5, [new UserSnapshot("u1", reply.State)]), Timeout);
        var id = PartitionJournal.PersistenceIdFor(topic, 0);
        await Eventually.ValueAsync(() => UserStateStores.For(Sys).Store.ReadMarkAsync(id, CancellationToken.None), mark => mark.Users == 1, Timeout);
        var view = journals.LocalView(0)!;
        await Eventually.TrueAsync(() => !view.TryRead("u1", out _), Timeout, () => "u1 is still in memory");
        Watch(user);
        user.Tell(StopUser.Instance);
        await ExpectTerminatedAsync(user, Timeout);
        var readsBefore = UserStateStores.For(Sys).Reads.Users;

        // It comes back: its start reads the store, and the sixth record in a minute alerts.
        var again = Sys.ActorOf(UserActor.PropsFor("u1", RuleSettings.Default, TimeProvider.System, journals));
        again.Tell(Apply(4, T0.AddSeconds(4)), TestActor);
        Assert.True(ExpectMsg<TransactionApplied>().Duplicate);
        again.Tell(Apply(5, T0.AddSeconds(5)), TestActor);
        var sixth = ExpectMsg<TransactionApplied>();
        Assert.Equal(6, Assert.Single(sixth.Alerts).Count);
        Assert.Equal(readsBefore + 1, UserStateStores.For(Sys).Reads.Users);
    }

    [Fact]
    public async Task Users_whose_state_is_only_in_the_store_start_together_without_holding_each_other_up()
    {
        var topic = "t" + Guid.NewGuid().ToString("N")[..8];
        var journals = new PartitionJournals(Sys, topic, new PartitionJournalSettings());
        var users = Enumerable.Range(0, 300).Select(i => $"u{i}").ToList();
        await journals.For(0).Ask<CheckpointWritten>(
            new WriteCheckpoint(1, 300, [.. users.Select((u, i) => new UserSnapshot(u, UserStateCodec.Encode(new UserState(u, i) { TransactionCount = 7 })))]),
            Timeout);
        var id = PartitionJournal.PersistenceIdFor(topic, 0);
        await Eventually.ValueAsync(() => UserStateStores.For(Sys).Store.ReadMarkAsync(id, CancellationToken.None), mark => mark.Users == 300, Timeout);
        var readsBefore = UserStateStores.For(Sys).Reads;
        var (before, usersBefore) = (readsBefore.Count, readsBefore.Users);

        // All start at once: each gets its own state, and the journal read them in batches.
        var actors = users.Select(u => Sys.ActorOf(UserActor.PropsFor(u, RuleSettings.Default, TimeProvider.System, journals))).ToList();
        var applied = await Task.WhenAll(actors.Select((a, i) => a.Ask<TransactionApplied>(Apply(300 + i, T0, users[i]), Timeout)));
        Assert.All(applied, a => Assert.False(a.Duplicate));
        var states = await Task.WhenAll(actors.Select((a, i) => a.Ask<UserCheckpointState>(new CheckpointBarrier(2, 0, users[i]), Timeout)));
        Assert.All(states, s => Assert.Equal(8, UserStateCodec.Decode(s.State).TransactionCount));
        var reads = UserStateStores.For(Sys).Reads;
        Assert.Equal(300, reads.Users - usersBefore);
        Assert.True(reads.Count - before < 300, $"{reads.Count - before} reads for 300 users");
    }

    [Fact]
    public async Task Once_the_journal_knows_the_stores_users_a_new_user_starts_without_reading_the_store()
    {
        var topic = "t" + Guid.NewGuid().ToString("N")[..8];
        var journals = new PartitionJournals(Sys, topic, new PartitionJournalSettings());
        await journals.For(0).Ask<CheckpointWritten>(new WriteCheckpoint(1, 1, [new UserSnapshot("old", UserStateCodec.Encode(new UserState("old", 0)))]), Timeout);
        var id = PartitionJournal.PersistenceIdFor(topic, 0);
        await Eventually.ValueAsync(() => UserStateStores.For(Sys).Store.ReadMarkAsync(id, CancellationToken.None), mark => mark.Users == 1, Timeout);

        // A restarted journal lists the store's users in the background.
        Watch(journals.For(0));
        await journals.For(0).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        var restarted = new PartitionJournals(Sys, topic, new PartitionJournalSettings());
        journals.For(0).Tell(StopJournal.Instance);
        await ExpectTerminatedAsync(journals.For(0), Timeout);
        await restarted.For(0).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        var view = restarted.LocalView(0)!;
        await Eventually.TrueAsync(() => view.TryRead("new", out _), Timeout, () => "the journal never knew that 'new' is not in the store");
        Assert.True(view.TryRead("new", out var none));
        Assert.Null(none);
        Assert.False(view.TryRead("old", out _));

        var readsBefore = UserStateStores.For(Sys).Reads.Users;
        var user = Sys.ActorOf(UserActor.PropsFor("new", RuleSettings.Default, TimeProvider.System, restarted));
        user.Tell(Apply(1, T0, "new"), TestActor);
        Assert.False(ExpectMsg<TransactionApplied>().Duplicate);
        Assert.Equal(readsBefore, UserStateStores.For(Sys).Reads.Users);
    }

    private static ApplyTransaction Apply(long offset, DateTimeOffset ts, string user = "u1") =>
        new(0, offset, new Transaction(user, 10m, "shop", ts));
}
