using System.Buffers.Binary;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>The partition journal's behaviour, run against each store (one subclass per store).</summary>
public abstract class PartitionJournalSpec(Config config) : TestKit(config)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Each test uses its own topic name, so runs never share persistence ids.</summary>
    protected string Topic { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Committed_checkpoints_survive_a_restart_with_users_and_offset()
    {
        var journal = Start(storeEvery: 100);
        await WriteAsync(journal, 1, 10, ("u1", 1), ("u2", 2));
        await WriteAsync(journal, 2, 20, ("u2", 22), ("u3", 3));
        await StopAsync(journal);

        var recovered = Start(storeEvery: 100);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((2L, (long?)20L, 3), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users));
        Assert.Equal([1], (await LoadAsync(recovered, "u1")).State);
        Assert.Equal([22], (await LoadAsync(recovered, "u2")).State);
        Assert.Equal([3], (await LoadAsync(recovered, "u3")).State);
        Assert.Null((await LoadAsync(recovered, "nobody")).State);
    }

    [Fact]
    public async Task A_recovered_journal_lets_its_nodes_users_read_their_state_until_it_stops()
    {
        var views = LocalJournalViews.For(Sys);
        Assert.Null(views.Find(Topic, 0));
        var journal = Start(storeEvery: 100);
        await WriteAsync(journal, 1, 10, ("u1", 1), ("u2", 2));
        await journal.Ask<UserHandedOver>(new HandOverUser("u2", [22]), Timeout);

        // What LoadUser answers: handed over since the commit, else the commit, else nothing.
        var view = views.Find(Topic, 0);
        Assert.NotNull(view);
        Assert.Equal([1], view.Read("u1"));
        Assert.Equal([22], view.Read("u2"));
        // A view either knows there is no state, or leaves the store to the journal.
        Assert.True(!view.TryRead("nobody", out var nobody) || nobody is null);
        Assert.Null(views.Find(Topic, 1));

        await StopAsync(journal);
        Assert.Null(views.Find(Topic, 0));
    }

    [Fact]
    public async Task A_journal_that_never_committed_has_no_offset()
    {
        var checkpoint = await Start(storeEvery: 100).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((0L, (long?)null, 0), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users));
    }

    [Fact]
    public async Task Chunks_persisted_without_their_commit_are_ignored_on_recovery()
    {
        var journal = Start(storeEvery: 100);
        await WriteAsync(journal, 1, 10, ("u1", 1));
        await StopAsync(journal);

        // A crash between the chunks and the commit of epoch 2 leaves chunks alone in the journal.
        var chunk = new CheckpointChunk(2, 0, [new UserSnapshot("u1", [99]), new UserSnapshot("u9", [9])]);
        var id = PartitionJournal.PersistenceIdFor(Topic, 0);
        var crashed = Sys.ActorOf(Props.Create(() => new ChunkOnlyWriter(id, chunk)));
        Assert.Equal("persisted", await crashed.Ask<string>("write", Timeout));
        await StopAsync(crashed);

        var recovered = Start(storeEvery: 100);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((1L, (long?)10L, 1), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users));
        Assert.Equal([1], (await LoadAsync(recovered, "u1")).State);
        Assert.Null((await LoadAsync(recovered, "u9")).State);

        // The next checkpoint commits normally after the abandoned one.
        await WriteAsync(recovered, 3, 30, ("u2", 2));
        Assert.Equal([2], (await LoadAsync(recovered, "u2")).State);
        Assert.Equal([1], (await LoadAsync(recovered, "u1")).State);
    }

    [Fact]
    public async Task Committed_states_go_to_the_store_and_only_the_last_commit_event_stays()
    {
        var journal = Start(storeEvery: 1, maxChunkBytes: 16);
        for (var epoch = 1; epoch <= 5; epoch++)
        {
            await WriteAsync(journal, epoch, epoch * 100, ($"u{epoch}", (byte)epoch), ("shared", (byte)epoch));
        }

        // Each commit's states went to the store and its events were deleted, but for the last
        // commit event, which keeps the epoch, offset and watermark.
        var id = PartitionJournal.PersistenceIdFor(Topic, 0);
        var events = await Eventually.ValueAsync(
            async () => await ReplayAsync(id),
            replayed => replayed is [CheckpointCommitted { Epoch: 5 }],
            Timeout);
        Assert.Equal(new CheckpointCommitted(5, 500, 2, 2), events[0]);
        var stored = await UserStateStores.For(Sys).Store.ReadMarkAsync(id, CancellationToken.None);
        Assert.Equal(6, stored.Users);
        await StopAsync(journal);

        var recovered = Start(storeEvery: 1);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((5L, (long?)500L, 6), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users));
        Assert.Equal([5], (await LoadAsync(recovered, "shared")).State);
        Assert.Equal([1], (await LoadAsync(recovered, "u1")).State);
        Assert.Null((await LoadAsync(recovered, "nobody")).State);
        Assert.Equal(
            ["shared", "u1", "u2", "u3", "u4", "u5"],
            (await recovered.Ask<CommittedUsers>(GetCommittedUsers.Instance, Timeout)).Users.Select(u => u.UserId));
    }

    [Fact]
    public async Task A_user_only_in_the_store_is_read_for_its_first_start_and_then_served_from_memory()
    {
        var journal = Start(storeEvery: 1);
        await WriteAsync(journal, 1, 10, ("u1", 1));
        var id = PartitionJournal.PersistenceIdFor(Topic, 0);
        await Eventually.ValueAsync(async () => await UserStateStores.For(Sys).Store.ReadMarkAsync(id, CancellationToken.None), mark => mark.Users == 1, Timeout);
        await StopAsync(journal);
        UserStateStores.For(Sys).Cache.RemoveJournal(id);

        var recovered = Start(storeEvery: 1);
        await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        var view = LocalJournalViews.For(Sys).Find(Topic, 0)!;
        var inMemory = UserStateStores.For(Sys).Store.InMemory;

        // Not in memory after a restart (unless the store is memory itself): the journal reads it.
        Assert.Equal(inMemory, view.TryRead("u1", out _));
        Assert.Equal([1], (await LoadAsync(recovered, "u1")).State);
        Assert.True(view.TryRead("u1", out var cached));
        Assert.Equal([1], cached);
    }

    [Fact]
    public async Task A_compaction_cut_short_by_a_crash_is_ignored_and_the_events_before_it_still_count()
    {
        var journal = Start(storeEvery: 100);
        await WriteAsync(journal, 1, 10, ("u1", 1), ("u2", 2));
        await StopAsync(journal);

        // The first chunk of a compaction of epoch 1, and no compaction event.
        var id = PartitionJournal.PersistenceIdFor(Topic, 0);
        var partial = new CheckpointChunk(1, 0, [new UserSnapshot("u1", [1])]);
        var crashed = Sys.ActorOf(Props.Create(() => new ChunkOnlyWriter(id, partial)));
        Assert.Equal("persisted", await crashed.Ask<string>("write", Timeout));
        await StopAsync(crashed);

        var recovered = Start(storeEvery: 100);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((1L, (long?)10L, 2), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users));
        Assert.Equal([2], (await LoadAsync(recovered, "u2")).State);
    }

    [Fact]
    public async Task Large_checkpoints_are_written_in_chunks()
    {
        var journal = Start(storeEvery: 100, maxChunkBytes: 1024);
        var users = Enumerable.Range(0, 200).Select(i => new UserSnapshot($"user-{i}", new byte[64])).ToList();
        var written = await journal.Ask<CheckpointWritten>(new WriteCheckpoint(1, 1000, users), Timeout);
        Assert.Equal(200, written.Users);
        Assert.True(written.Chunks > 10, $"{written.Chunks} chunks");
        await StopAsync(journal);
        Assert.Equal(200, (await Start(storeEvery: 100).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).Users);
    }

    [Fact]
    public async Task The_watermark_of_the_last_commit_survives_a_restart()
    {
        var journal = Start(storeEvery: 100);
        Assert.Null((await journal.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).WatermarkMs);
        Assert.Null((await WriteStatesAsync(journal, 1, 10, null, new UserSnapshot("u1", [1]))).WatermarkMs);
        Assert.Equal(1_000, (await WriteStatesAsync(journal, 2, 20, 1_000, new UserSnapshot("u1", [2]))).WatermarkMs);
        Assert.Equal(2_500, (await WriteStatesAsync(journal, 3, 30, 2_500)).WatermarkMs);
        Assert.Equal(2_500, (await journal.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).WatermarkMs);
        await StopAsync(journal);

        var recovered = Start(storeEvery: 100);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((3L, (long?)30L, (long?)2_500L), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.WatermarkMs));
        Assert.Equal(2_500, (await recovered.Ask<CommittedUsers>(GetCommittedUsers.Instance, Timeout)).WatermarkMs);
    }

    [Fact]
    public async Task The_watermark_and_offset_survive_once_every_state_is_in_the_store()
    {
        var journal = Start(storeEvery: 1);
        await WriteStatesAsync(journal, 1, 100, 1_000, new UserSnapshot("u1", [1]));
        await WriteStatesAsync(journal, 2, 200, 2_000, new UserSnapshot("u2", [2]));

        // Only the last commit event is left, without its chunk.
        var events = await Eventually.ValueAsync(
            async () => await ReplayAsync(PartitionJournal.PersistenceIdFor(Topic, 0)),
            replayed => replayed is [CheckpointCommitted],
            Timeout);
        Assert.Equal(new CheckpointCommitted(2, 200, 1, 1, 2_000), events[0]);
        await StopAsync(journal);

        var recovered = Start(storeEvery: 1);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal((2L, (long?)200L, 2, (long?)2_000L), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users, checkpoint.WatermarkMs));
    }

    [Fact]
    public async Task The_timers_index_lists_users_with_a_next_timer_by_due_time_and_survives_a_restart()
    {
        var journal = Start(storeEvery: 100, maxChunkBytes: 32);
        await WriteStatesAsync(
            journal,
            1,
            10,
            5_000,
            new UserSnapshot("a", TimerState(500)),
            new UserSnapshot("idle", TimerState(long.MaxValue)),
            new UserSnapshot("c", TimerState(300)),
            new UserSnapshot("older", [UserStateCodec.Version2, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            new UserSnapshot("b", TimerState(500)));
        UserTimerDue[] committed = [new("c", 300), new("a", 500), new("b", 500)];
        Assert.Equal(committed, (await journal.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).Timers);

        // A handed-over state is what the user loads, so it is what the index shows, until a rewind forgets it.
        await journal.Ask<UserHandedOver>(new HandOverUser("idle", TimerState(100)), Timeout);
        await journal.Ask<UserHandedOver>(new HandOverUser("a", TimerState(long.MaxValue)), Timeout);
        Assert.Equal(
            [new UserTimerDue("idle", 100), new("c", 300), new("b", 500)],
            (await journal.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).Timers);
        Assert.Equal(committed, (await journal.Ask<PartitionCheckpoint>(RewindPartition.Instance, Timeout)).Timers);

        // A later checkpoint moves one timer and clears another.
        await WriteStatesAsync(journal, 2, 20, 6_000, new UserSnapshot("b", TimerState(200)), new UserSnapshot("c", TimerState(long.MaxValue)));
        UserTimerDue[] after = [new("b", 200), new("a", 500)];
        Assert.Equal(after, (await journal.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).Timers);
        await StopAsync(journal);

        var recovered = Start(storeEvery: 100);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal(after, checkpoint.Timers);
        Assert.Equal((5, (long?)6_000L), (checkpoint.Users, checkpoint.WatermarkMs));
    }

    [Fact]
    public async Task The_timers_index_comes_from_the_store_with_newer_states_standing_in()
    {
        var journal = Start(storeEvery: 1);
        await WriteStatesAsync(journal, 1, 10, 1_000, new UserSnapshot("a", TimerState(700)), new UserSnapshot("b", TimerState(long.MaxValue)), new UserSnapshot("d", TimerState(50)));
        await WriteStatesAsync(journal, 2, 20, 2_000, new UserSnapshot("c", TimerState(600)));
        await Eventually.ValueAsync(
            async () => await ReplayAsync(PartitionJournal.PersistenceIdFor(Topic, 0)),
            replayed => replayed is [CheckpointCommitted { Epoch: 2 }],
            Timeout);
        await StopAsync(journal);

        var recovered = Start(storeEvery: 1);
        var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal([new UserTimerDue("d", 50), new("c", 600), new("a", 700)], checkpoint.Timers);

        // d's timer fired and it handed its state over: that state stands for the stored one.
        await recovered.Ask<UserHandedOver>(new HandOverUser("d", TimerState(long.MaxValue)), Timeout);
        Assert.Equal([new UserTimerDue("c", 600), new("a", 700)], (await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout)).Timers);
    }

    protected IActorRef Start(int storeEvery, int maxChunkBytes = 256 * 1024) =>
        Sys.ActorOf(PartitionJournal.PropsFor(Topic, 0, new PartitionJournalSettings(maxChunkBytes, storeEvery)));

    protected static async Task<CheckpointWritten> WriteAsync(IActorRef journal, long epoch, long nextOffset, params (string User, byte State)[] users)
    {
        var written = await journal.Ask<CheckpointWritten>(
            new WriteCheckpoint(epoch, nextOffset, [.. users.Select(u => new UserSnapshot(u.User, [u.State]))]), Timeout);
        Assert.Equal((epoch, nextOffset, users.Length), (written.Epoch, written.NextOffset, written.Users));
        return written;
    }

    protected static async Task<CheckpointWritten> WriteStatesAsync(IActorRef journal, long epoch, long nextOffset, long? watermarkMs, params UserSnapshot[] users)
    {
        var written = await journal.Ask<CheckpointWritten>(new WriteCheckpoint(epoch, nextOffset, users, watermarkMs), Timeout);
        Assert.Equal((epoch, nextOffset, users.Length), (written.Epoch, written.NextOffset, written.Users));
        return written;
    }

    /// <summary>State bytes as the version 3 header lays them out: the version, the next due time (int64 little-endian), then the rest.</summary>
    protected static byte[] TimerState(long dueMs)
    {
        var state = new byte[12];
        state[0] = UserStateCodec.Version3;
        BinaryPrimitives.WriteInt64LittleEndian(state.AsSpan(1), dueMs);
        state[9] = 0xAB;
        return state;
    }

    protected static Task<UserLoaded> LoadAsync(IActorRef journal, string user) => journal.Ask<UserLoaded>(new LoadUser(user), Timeout);

    protected async Task StopAsync(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        await ExpectTerminatedAsync(actor, Timeout);
    }

    /// <summary>Every event of a persistence id, as its recovery replays them.</summary>
    private async Task<List<object>> ReplayAsync(string persistenceId)
    {
        var replayer = Sys.ActorOf(Props.Create(() => new Replayer(persistenceId)));
        var events = await replayer.Ask<List<object>>("events", Timeout);
        await StopAsync(replayer);
        return events;
    }

    private sealed class Replayer : ReceivePersistentActor
    {
        private readonly List<object> _events = [];

        public Replayer(string persistenceId)
        {
            PersistenceId = persistenceId;
            Recover<RecoveryCompleted>(_ => { });
            Recover<object>(_events.Add);
            Command<string>(_ => Sender.Tell(_events.ToList()));
        }

        public override string PersistenceId { get; }
    }

    /// <summary>Writes a chunk and no commit under a partition journal's id: a checkpoint cut short by a crash.</summary>
    private sealed class ChunkOnlyWriter : ReceivePersistentActor
    {
        public ChunkOnlyWriter(string persistenceId, CheckpointChunk chunk)
        {
            PersistenceId = persistenceId;
            Recover<object>(_ => { });
            Command<string>(_ =>
            {
                var replyTo = Sender;
                Persist(chunk, _ => replyTo.Tell("persisted"));
            });
        }

        public override string PersistenceId { get; }
    }
}

public sealed class InMemoryPartitionJournalTests() : PartitionJournalSpec(JournalStore.Config(JournalStore.Memory, string.Empty));

public sealed class SqlitePartitionJournalTests() : PartitionJournalSpec(
    JournalStore.Config(JournalStore.Sqlite, $"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-journal-{Guid.NewGuid():N}.db")}"));

public sealed class PostgreSqlPartitionJournalTests() : PartitionJournalSpec(JournalStore.Config(JournalStore.Postgres, TestPostgres.ConnectionString))
{
    [Fact]
    public async Task A_new_actor_system_recovers_what_another_committed_as_after_a_process_restart()
    {
        var journal = Start(storeEvery: 3);
        for (var epoch = 1; epoch <= 4; epoch++)
        {
            await WriteAsync(journal, epoch, epoch * 10, ($"u{epoch}", (byte)epoch));
        }

        using var other = ActorSystem.Create("restarted", JournalStore.Config(JournalStore.Postgres, TestPostgres.ConnectionString));
        try
        {
            var recovered = other.ActorOf(PartitionJournal.PropsFor(Topic, 0, new PartitionJournalSettings()));
            var checkpoint = await recovered.Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, TimeSpan.FromSeconds(30));
            Assert.Equal((4L, (long?)40L, 4), (checkpoint.Epoch, checkpoint.NextOffset, checkpoint.Users));
            Assert.Equal([3], (await LoadAsync(recovered, "u3")).State);
        }
        finally
        {
            await other.Terminate();
        }
    }
}
