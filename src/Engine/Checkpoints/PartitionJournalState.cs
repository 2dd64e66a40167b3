using System.Collections.Concurrent;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Users;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// What a partition journal knows, rebuilt from its events and its mark in the state store
/// (docs/design.md, "State beyond memory"): where the partition stands (epoch, offset,
/// watermark), and the states of users committed since the store's mark. Every other user's
/// committed state is in the store. Chunks wait for their epoch's commit; a chunk of an epoch
/// that never commits (a crash mid-checkpoint) is dropped as soon as another epoch's event
/// appears, and never becomes a user's state.
/// </summary>
public sealed class PartitionJournalState
{
    // Concurrent: the journal's actor writes it, the users of its node read it through its
    // view when they start (LocalJournalViews).
    private readonly ConcurrentDictionary<string, RecentState> _recent = new(StringComparer.Ordinal);
    private readonly List<CheckpointChunk> _pending = [];

    /// <summary>The next offset to read after the last committed checkpoint; null before the first.</summary>
    public long? NextOffset { get; private set; }

    /// <summary>The epoch of the last committed checkpoint; 0 before the first.</summary>
    public long Epoch { get; private set; }

    /// <summary>The watermark of the last commit (epoch milliseconds); null before the first, or when it carried none.</summary>
    public long? WatermarkMs { get; private set; }

    /// <summary>The rules the last commit that recorded any holds: in force from its next offset (docs/design.md, "Dynamic rules").</summary>
    public Messages.Rules.RecordedRules? Rules { get; private set; }

    /// <summary>The journal sequence number of the last commit (or compaction): what the store must reach.</summary>
    public long LastCommitSequence { get; private set; }

    /// <summary>
    /// Non-zero while a whole-state replacement (a compaction of an older build, a rescale) is
    /// in the journal but not yet in the store: the store's rows are stale, every user is in
    /// <see cref="Recent"/> or has no state.
    /// </summary>
    public long ReplacedAt { get; private set; }

    /// <summary>How far the store holds this journal's commits.</summary>
    public StateMark Stored { get; private set; } = StateMark.None;

    /// <summary>Users committed since the store's mark, with the sequence number of their commit.</summary>
    public IReadOnlyDictionary<string, RecentState> Recent => _recent;

    /// <summary>Users with a committed state: the store's count, or those committed since a replacement while the store lags.</summary>
    public long Users => ReplacedAt > 0 ? _recent.Count : Math.Max(Stored.Users, _recent.Count);

    /// <summary>Chunks still waiting for their commit (none after a clean recovery).</summary>
    public int PendingChunks => _pending.Count;

    /// <summary>The store holds nothing of this journal that its events do not also hold: no read of it can find a user.</summary>
    public bool StoreIsStale => ReplacedAt > 0;

    public void Apply(CheckpointChunk chunk)
    {
        if (_pending.Count > 0 && _pending[0].Epoch != chunk.Epoch)
        {
            _pending.Clear();
        }

        _pending.Add(chunk);
    }

    public void Apply(CheckpointCommitted commit, long sequence)
    {
        Commit(commit.Epoch, commit.NextOffset, commit.WatermarkMs, sequence, replace: false);
        Rules = commit.Rules ?? Rules;
    }

    /// <summary>A compaction's chunks are the whole state: users not in them are gone.</summary>
    public void Apply(CheckpointCompacted compacted, long sequence) => Commit(compacted.Epoch, compacted.NextOffset, compacted.WatermarkMs, sequence, replace: true);

    /// <summary>A snapshot of the snapshot store, as builds before journal compaction wrote them: the whole state.</summary>
    public void Apply(PartitionSnapshot snapshot, long sequence)
    {
        _recent.Clear();
        _pending.Clear();
        foreach (var user in snapshot.Users)
        {
            _recent[user.UserId] = new RecentState(user.State, sequence);
        }

        Epoch = snapshot.Epoch;
        NextOffset = snapshot.NextOffset;
        WatermarkMs = null;
        LastCommitSequence = sequence;
        ReplacedAt = sequence;
    }

    /// <summary>Recovery is over: chunks still without a commit belong to a checkpoint that failed.</summary>
    public void DropUncommitted() => _pending.Clear();

    /// <summary>
    /// The store holds this journal's commits up to <paramref name="mark"/>: the recent states it
    /// holds leave memory. Each is handed to <paramref name="keep"/> (the cache) before it leaves,
    /// so a reader on another thread finds either it or its copy, never an older cached state.
    /// </summary>
    public void StoredUpTo(StateMark mark, Action<string, byte[]>? keep = null)
    {
        Stored = mark;
        if (ReplacedAt <= mark.Sequence)
        {
            ReplacedAt = 0;
        }

        foreach (var (userId, recent) in _recent)
        {
            if (recent.Sequence <= mark.Sequence)
            {
                keep?.Invoke(userId, recent.State);
                _recent.TryRemove(new KeyValuePair<string, RecentState>(userId, recent));
            }
        }
    }

    /// <summary>What the store lacks: every recent state, up to the last commit.</summary>
    public StateWrite ToStore() =>
        new(LastCommitSequence, ReplacedAt > 0, [.. _recent.Select(u => new StoredState(u.Key, u.Value.Sequence, u.Value.State))]);

    /// <summary>
    /// Every user with a next timer, by due time then user id (ordinal): <paramref name="stored"/>
    /// (the store's, from <c>TimersAsync</c>) where no state in <see cref="Recent"/> or in
    /// <paramref name="newer"/> (handed over since the last commit) stands for it.
    /// </summary>
    public List<UserTimerDue> TimersDue(IReadOnlyList<UserTimerDue> stored, IReadOnlyDictionary<string, byte[]> newer) =>
        new CommittedInMemory(_recent, StoreIsStale).TimersDue(stored, newer);

    /// <summary>Every user's committed state in a stable order: <paramref name="stored"/> (the store's) under the recent ones.</summary>
    public List<UserSnapshot> AllUsers(IReadOnlyList<UserSnapshot> stored) =>
        new CommittedInMemory(_recent, StoreIsStale).AllUsers(stored);

    /// <summary>A copy of what memory holds over the store, for a reader off the journal's thread that merges it with the store's answer.</summary>
    public CommittedInMemory Snapshot() =>
        new(new Dictionary<string, RecentState>(_recent, StringComparer.Ordinal), StoreIsStale);

    /// <summary>The chunks of <paramref name="epoch"/> become committed states (all of them when <paramref name="replace"/>).</summary>
    private void Commit(long epoch, long nextOffset, long? watermarkMs, long sequence, bool replace)
    {
        if (replace)
        {
            _recent.Clear();
            ReplacedAt = sequence;
        }

        foreach (var chunk in _pending.Where(c => c.Epoch == epoch))
        {
            foreach (var user in chunk.Users)
            {
                _recent[user.UserId] = new RecentState(user.State, sequence);
            }
        }

        _pending.Clear();
        Epoch = epoch;
        NextOffset = nextOffset;
        WatermarkMs = watermarkMs;
        LastCommitSequence = sequence;
    }
}

/// <summary>A user's state committed since the store's mark, and the sequence number of its commit.</summary>
public sealed record RecentState(byte[] State, long Sequence);

/// <summary>
/// The committed states memory holds over the store (<paramref name="Recent"/>), and whether the
/// store's rows are stale (a replacement it does not hold yet): how the store's answers are read.
/// </summary>
public sealed record CommittedInMemory(IReadOnlyDictionary<string, RecentState> Recent, bool StoreIsStale)
{
    /// <summary>
    /// Every user with a next timer, by due time then user id (ordinal): <paramref name="stored"/>
    /// where no state in <see cref="Recent"/> or in <paramref name="newer"/> stands for it. Reads
    /// only each state's fixed header (<see cref="UserStateCodec.PeekNextTimer"/>).
    /// </summary>
    public List<UserTimerDue> TimersDue(IReadOnlyList<UserTimerDue> stored, IReadOnlyDictionary<string, byte[]> newer)
    {
        var due = new List<UserTimerDue>();
        if (!StoreIsStale)
        {
            due.AddRange(stored.Where(t => !Recent.ContainsKey(t.UserId) && !newer.ContainsKey(t.UserId)));
        }

        foreach (var (userId, recent) in Recent)
        {
            if (!newer.ContainsKey(userId) && UserStateCodec.PeekNextTimer(recent.State) is { } next)
            {
                due.Add(new UserTimerDue(userId, next));
            }
        }

        foreach (var (userId, state) in newer)
        {
            if (UserStateCodec.PeekNextTimer(state) is { } next)
            {
                due.Add(new UserTimerDue(userId, next));
            }
        }

        due.Sort(static (a, b) => a.DueMs != b.DueMs ? a.DueMs.CompareTo(b.DueMs) : string.CompareOrdinal(a.UserId, b.UserId));
        return due;
    }

    /// <summary>Every user's committed state in a stable order: <paramref name="stored"/> under <see cref="Recent"/>.</summary>
    public List<UserSnapshot> AllUsers(IReadOnlyList<UserSnapshot> stored)
    {
        var all = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (!StoreIsStale)
        {
            foreach (var user in stored)
            {
                all[user.UserId] = user.State;
            }
        }

        foreach (var (userId, recent) in Recent)
        {
            all[userId] = recent.State;
        }

        return [.. all.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => new UserSnapshot(u.Key, u.Value))];
    }
}
