using System.Collections.Concurrent;
using FraudActors.Engine.Users;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// What a partition journal knows, rebuilt from its events: the committed state of each user
/// and the offset and watermark it reflects. Chunks wait for their epoch's commit; a chunk of an
/// epoch that never commits (a crash mid-checkpoint) is dropped as soon as another epoch's event
/// appears, and is never part of <see cref="Users"/>.
/// </summary>
public sealed class PartitionJournalState
{
    // Concurrent: the journal's actor writes it, the users of its node read it through its
    // view when they start (LocalJournalViews).
    private readonly ConcurrentDictionary<string, byte[]> _users = new(StringComparer.Ordinal);
    private readonly List<CheckpointChunk> _pending = [];

    /// <summary>The next offset to read after the last committed checkpoint; null before the first.</summary>
    public long? NextOffset { get; private set; }

    /// <summary>The epoch of the last committed checkpoint; 0 before the first.</summary>
    public long Epoch { get; private set; }

    /// <summary>The watermark of the last commit (epoch milliseconds); null before the first, or when it carried none.</summary>
    public long? WatermarkMs { get; private set; }

    public IReadOnlyDictionary<string, byte[]> Users => _users;

    /// <summary>Chunks still waiting for their commit (none after a clean recovery).</summary>
    public int PendingChunks => _pending.Count;

    public void Apply(CheckpointChunk chunk)
    {
        if (_pending.Count > 0 && _pending[0].Epoch != chunk.Epoch)
        {
            _pending.Clear();
        }

        _pending.Add(chunk);
    }

    public void Apply(CheckpointCommitted commit) => Commit(commit.Epoch, commit.NextOffset, commit.WatermarkMs, replace: false);

    /// <summary>A compaction's chunks are the whole state: users not in them are gone.</summary>
    public void Apply(CheckpointCompacted compacted) => Commit(compacted.Epoch, compacted.NextOffset, compacted.WatermarkMs, replace: true);

    /// <summary>A snapshot of the snapshot store, as builds before journal compaction wrote them.</summary>
    public void Apply(PartitionSnapshot snapshot)
    {
        _users.Clear();
        _pending.Clear();
        foreach (var user in snapshot.Users)
        {
            _users[user.UserId] = user.State;
        }

        Epoch = snapshot.Epoch;
        NextOffset = snapshot.NextOffset;
        WatermarkMs = null;
    }

    /// <summary>The chunks of <paramref name="epoch"/> become the committed state (all of it when <paramref name="replace"/>).</summary>
    private void Commit(long epoch, long nextOffset, long? watermarkMs, bool replace)
    {
        if (replace)
        {
            _users.Clear();
        }

        foreach (var chunk in _pending.Where(c => c.Epoch == epoch))
        {
            foreach (var user in chunk.Users)
            {
                _users[user.UserId] = user.State;
            }
        }

        _pending.Clear();
        Epoch = epoch;
        NextOffset = nextOffset;
        WatermarkMs = watermarkMs;
    }

    /// <summary>Recovery is over: chunks still without a commit belong to a checkpoint that failed.</summary>
    public void DropUncommitted() => _pending.Clear();

    /// <summary>
    /// Every user with a next timer, by due time then user id (ordinal), where a state in
    /// <paramref name="newer"/> (handed over since the last commit) stands for the committed one.
    /// Reads only each state's fixed header (<see cref="UserStateCodec.PeekNextTimer"/>), so a
    /// million users cost a scan, not a million decodes.
    /// </summary>
    public List<UserTimerDue> TimersDue(IReadOnlyDictionary<string, byte[]> newer)
    {
        var due = new List<UserTimerDue>();
        foreach (var (userId, state) in _users)
        {
            if (!newer.ContainsKey(userId) && UserStateCodec.PeekNextTimer(state) is { } next)
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

    /// <summary>Every user's committed state, in a stable order.</summary>
    public List<UserSnapshot> AllUsers() =>
        [.. _users.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => new UserSnapshot(u.Key, u.Value))];
}
