using System.Buffers.Binary;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>Chunk/commit recovery and the store's mark, without actors: only a commit makes a checkpoint real.</summary>
public sealed class PartitionJournalStateTests
{
    [Fact]
    public void Chunks_count_once_their_epoch_commits()
    {
        var state = new PartitionJournalState();
        state.Apply(Chunk(1, 0, ("u1", 1), ("u2", 2)));
        state.Apply(Chunk(1, 1, ("u3", 3)));
        Assert.Empty(Users(state));
        Assert.Null(state.NextOffset);

        state.Apply(new CheckpointCommitted(1, 100, 3, 3), Next());
        Assert.Equal(["u1", "u2", "u3"], Users(state).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(100, state.NextOffset);
        Assert.Equal(1, state.Epoch);
    }

    [Fact]
    public void Chunks_without_a_commit_are_ignored_and_the_previous_checkpoint_stands()
    {
        var state = new PartitionJournalState();
        state.Apply(Chunk(1, 0, ("u1", 1)));
        state.Apply(new CheckpointCommitted(1, 10, 1, 1), Next());

        // Epoch 2 crashed after its chunk; epoch 3 commits without touching u1.
        state.Apply(Chunk(2, 0, ("u1", 99), ("u2", 99)));
        state.Apply(Chunk(3, 0, ("u3", 3)));
        state.Apply(new CheckpointCommitted(3, 30, 1, 1), Next());

        Assert.Equal([1], Users(state)["u1"]);
        Assert.False(Users(state).ContainsKey("u2"));
        Assert.Equal([3], Users(state)["u3"]);
        Assert.Equal(30, state.NextOffset);
    }

    [Fact]
    public void Chunks_left_at_the_end_of_recovery_are_dropped()
    {
        var state = new PartitionJournalState();
        state.Apply(new CheckpointCommitted(1, 5, 0, 0), Next());
        state.Apply(Chunk(2, 0, ("u1", 7)));
        Assert.Equal(1, state.PendingChunks);

        state.DropUncommitted();
        Assert.Equal(0, state.PendingChunks);

        // A commit of a later epoch must not pick the dropped chunk up.
        state.Apply(new CheckpointCommitted(3, 9, 0, 0), Next());
        Assert.Empty(Users(state));
        Assert.Equal(9, state.NextOffset);
    }

    [Fact]
    public void A_commit_without_chunks_moves_the_offset_only_and_later_states_replace_earlier_ones()
    {
        var state = new PartitionJournalState();
        state.Apply(Chunk(1, 0, ("u1", 1)));
        state.Apply(new CheckpointCommitted(1, 10, 1, 1), Next());
        state.Apply(new CheckpointCommitted(2, 20, 0, 0), Next());
        Assert.Equal([1], Users(state)["u1"]);
        Assert.Equal(20, state.NextOffset);

        state.Apply(Chunk(3, 0, ("u1", 2)));
        state.Apply(new CheckpointCommitted(3, 30, 1, 1), Next());
        Assert.Equal([2], Users(state)["u1"]);
    }

    [Fact]
    public void A_compaction_of_the_committed_state_recovers_it_alone_and_replaces_what_came_before()
    {
        var state = new PartitionJournalState();
        state.Apply(Chunk(4, 0, ("b", 2), ("a", 1)));
        state.Apply(new CheckpointCommitted(4, 40, 2, 2), Next());

        // What a journal whose older events were deleted replays: the compaction's chunks and its event.
        var chunks = PartitionJournal.Chunk(state.Epoch, state.AllUsers([]), maxChunkBytes: 16);
        var restored = new PartitionJournalState();
        restored.Apply(Chunk(3, 0, ("gone", 9)));
        restored.Apply(new CheckpointCommitted(3, 30, 1, 1), Next());
        chunks.ForEach(restored.Apply);
        restored.Apply(new CheckpointCompacted(4, 40, 2, chunks.Count), Next());
        Assert.Equal(4, restored.Epoch);
        Assert.Equal(40, restored.NextOffset);
        Assert.Equal(Users(state).OrderBy(u => u.Key), Users(restored).OrderBy(u => u.Key));
    }

    [Fact]
    public void A_compaction_cut_short_by_a_crash_changes_nothing()
    {
        var state = new PartitionJournalState();
        state.Apply(Chunk(4, 0, ("a", 1), ("b", 2)));
        state.Apply(new CheckpointCommitted(4, 40, 2, 2), Next());
        state.Apply(Chunk(4, 0, ("a", 1)));
        state.DropUncommitted();
        Assert.Equal(2, Users(state).Count);

        // Or the next checkpoint follows the abandoned chunks.
        state.Apply(Chunk(4, 0, ("a", 1)));
        state.Apply(Chunk(5, 0, ("c", 3)));
        state.Apply(new CheckpointCommitted(5, 50, 1, 1), Next());
        Assert.Equal(["a", "b", "c"], Users(state).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Users_are_split_into_chunks_of_bounded_size()
    {
        var users = Enumerable.Range(0, 10).Select(i => new UserSnapshot($"u{i}", new byte[100])).ToList();
        var chunks = PartitionJournal.Chunk(7, users, maxChunkBytes: 300);
        Assert.True(chunks.Count >= 4);
        Assert.Equal(users, chunks.SelectMany(c => c.Users));
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));
        Assert.All(chunks, c => Assert.Equal(7, c.Epoch));

        // A user larger than the bound still gets a chunk of its own.
        var big = PartitionJournal.Chunk(1, [new UserSnapshot("big", new byte[1000])], maxChunkBytes: 300);
        Assert.Single(Assert.Single(big).Users);
    }

    [Fact]
    public void The_watermark_is_the_last_commits_and_a_compaction_restores_it()
    {
        var state = new PartitionJournalState();
        Assert.Null(state.WatermarkMs);
        state.Apply(new CheckpointCommitted(1, 10, 0, 0, 1_000), Next());
        state.Apply(Chunk(2, 0, ("u1", 1)));
        Assert.Equal(1_000, state.WatermarkMs);
        state.Apply(new CheckpointCommitted(2, 20, 1, 1, 2_000), Next());
        Assert.Equal(2_000, state.WatermarkMs);

        // A checkpoint that never committed leaves the watermark where the last commit put it.
        state.Apply(Chunk(3, 0, ("u1", 3)));
        state.DropUncommitted();
        Assert.Equal(2_000, state.WatermarkMs);

        var restored = new PartitionJournalState();
        PartitionJournal.Chunk(state.Epoch, state.AllUsers([]), maxChunkBytes: 16).ForEach(restored.Apply);
        restored.Apply(new CheckpointCompacted(2, 20, 1, 1, 2_000), Next());
        Assert.Equal((2L, (long?)20L, (long?)2_000L), (restored.Epoch, restored.NextOffset, restored.WatermarkMs));
    }

    [Fact]
    public void Timers_due_are_peeked_from_committed_states_with_newer_states_standing_in_and_sorted_by_due_time_then_user()
    {
        var state = new PartitionJournalState();
        state.Apply(new CheckpointChunk(1, 0, [
            new UserSnapshot("b", TimerState(50)),
            new UserSnapshot("a", TimerState(50)),
            new UserSnapshot("none", TimerState(long.MaxValue)),
            new UserSnapshot("v2", [UserStateCodec.Version2, 9, 9, 9, 9, 9, 9, 9, 9]),
            new UserSnapshot("short", [UserStateCodec.Version3, 1]),
            new UserSnapshot("late", TimerState(900)),
            new UserSnapshot("B", TimerState(50)),
        ]));
        state.Apply(new CheckpointCommitted(1, 10, 7, 0), Next());

        var none = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        Assert.Equal(
            [new UserTimerDue("B", 50), new UserTimerDue("a", 50), new UserTimerDue("b", 50), new UserTimerDue("late", 900)],
            state.TimersDue([], none));

        var handedOver = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["late"] = TimerState(long.MaxValue),
            ["none"] = TimerState(10),
            ["new"] = TimerState(60),
        };
        Assert.Equal(
            [new UserTimerDue("none", 10), new UserTimerDue("B", 50), new UserTimerDue("a", 50), new UserTimerDue("b", 50), new UserTimerDue("new", 60)],
            state.TimersDue([], handedOver));
    }

    [Fact]
    public void States_the_store_holds_leave_memory_and_a_newer_commit_of_the_same_user_stays()
    {
        var state = new PartitionJournalState();
        state.Apply(Chunk(1, 0, ("a", 1), ("b", 1)));
        state.Apply(new CheckpointCommitted(1, 10, 2, 2), 2);
        var write = state.ToStore();
        Assert.Equal((2L, false), (write.Sequence, write.Replace));
        Assert.Equal(["a", "b"], write.Users.Select(u => u.UserId).Order(StringComparer.Ordinal));

        // b changes again while the store writes epoch 1.
        state.Apply(Chunk(2, 0, ("b", 2)));
        state.Apply(new CheckpointCommitted(2, 20, 1, 1), 4);
        var kept = new List<string>();
        state.StoredUpTo(new StateMark(2, 2), (userId, _) => kept.Add(userId));
        Assert.Equal(["a"], kept);
        Assert.Equal(["b"], Users(state).Keys);
        Assert.Equal([2], Users(state)["b"]);
        Assert.Equal(2, state.Users);
    }

    [Fact]
    public void After_a_replacement_the_store_is_stale_until_it_holds_the_replacement()
    {
        var state = new PartitionJournalState();
        state.StoredUpTo(new StateMark(3, 100));
        Assert.False(state.StoreIsStale);
        Assert.Equal(100, state.Users);

        state.Apply(Chunk(5, 0, ("x", 1)));
        state.Apply(new CheckpointCompacted(5, 50, 1, 1), 9);
        Assert.True(state.StoreIsStale);
        Assert.Equal(1, state.Users);
        Assert.True(state.ToStore().Replace);

        // Stored timers and users do not count while stale: they are the replaced ones.
        Assert.Empty(state.TimersDue([new UserTimerDue("old", 5)], new Dictionary<string, byte[]>()));
        Assert.Equal(["x"], state.AllUsers([new UserSnapshot("old", [1])]).Select(u => u.UserId));

        state.StoredUpTo(new StateMark(9, 1));
        Assert.False(state.StoreIsStale);
        Assert.Empty(Users(state));
    }

    [Fact]
    public void Replayed_states_the_store_already_holds_are_dropped_by_its_mark()
    {
        // A crash came between the store's write of sequence 2 and the delete of its events.
        var state = new PartitionJournalState();
        state.Apply(Chunk(1, 0, ("a", 1)));
        state.Apply(new CheckpointCommitted(1, 10, 1, 1), 2);
        state.Apply(Chunk(2, 0, ("b", 2)));
        state.Apply(new CheckpointCommitted(2, 20, 1, 1), 4);
        state.StoredUpTo(new StateMark(2, 1));
        Assert.Equal(["b"], Users(state).Keys);
        Assert.Equal(4, state.ToStore().Sequence);
    }

    /// <summary>Version 3 header: the version byte, then the next due time as int64 little-endian, then the rest.</summary>
    private static byte[] TimerState(long dueMs)
    {
        var state = new byte[16];
        state[0] = UserStateCodec.Version3;
        BinaryPrimitives.WriteInt64LittleEndian(state.AsSpan(1), dueMs);
        return state;
    }

    private long _sequence;

    /// <summary>The next journal sequence number, as the events are replayed in order.</summary>
    private long Next() => ++_sequence;

    private static Dictionary<string, byte[]> Users(PartitionJournalState state) =>
        state.Recent.ToDictionary(u => u.Key, u => u.Value.State, StringComparer.Ordinal);

    private static CheckpointChunk Chunk(long epoch, int index, params (string User, byte State)[] users) =>
        new(epoch, index, [.. users.Select(u => new UserSnapshot(u.User, [u.State]))]);
}
