namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// What a barrier of one partition must collect: the users that received records since the
/// previous barrier, with the last offset sent to each, and the partition offset it cuts at.
/// </summary>
public sealed record BarrierCut(long Epoch, int Partition, long NextOffset, IReadOnlyDictionary<string, long> Expected);

/// <summary>The outcome of a barrier: the states to persist, or why the checkpoint is broken.</summary>
public sealed record CutOutcome(IReadOnlyList<UserSnapshot> States, string? Broken)
{
    public bool IsComplete => Broken is null;
}

/// <summary>
/// Barrier bookkeeping (docs/design.md, section 4, steps 2 and 3), pure: which users are dirty per
/// partition, where a barrier cuts, and whether the replies prove that every record sent before
/// it was applied. Sharding delivers at most once, so a user whose last applied offset is not
/// the last offset sent to it lost a record in transit, and the checkpoint must not commit.
/// </summary>
public sealed class CheckpointTracker
{
    /// <summary>The expected offset of a user woken only by its clock (a timer or window): it may have applied any record before.</summary>
    public const long AnyOffset = long.MinValue;

    private readonly Dictionary<int, Dictionary<string, long>> _dirty = [];
    private readonly Dictionary<int, long> _lastSent = [];
    private readonly HashSet<int> _moved = [];

    /// <summary>The partition resumes at <paramref name="nextOffset"/> (its last commit): where a cut stands before any record.</summary>
    public void Started(int partition, long? nextOffset)
    {
        if (nextOffset is { } next)
        {
            _lastSent.TryAdd(partition, next - 1);
        }
    }

    /// <summary>
    /// A record of <paramref name="partition"/> at <paramref name="offset"/> is sent to
    /// <paramref name="userId"/>. Returns the offset of the record of the partition sent to the
    /// user before it since the partition's last cut (the record's <c>PreviousOffset</c>); null
    /// when none was, or the user was only woken by its clock. One lookup of the user per record.
    /// </summary>
    public long? Sent(int partition, string userId, long offset)
    {
        if (!_dirty.TryGetValue(partition, out var users))
        {
            _dirty[partition] = users = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        ref var last = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(users, userId, out var known);
        long? previous = known && last != AnyOffset ? last : null;
        last = offset;
        _lastSent[partition] = offset;
        _moved.Add(partition);
        return previous;
    }

    /// <summary>
    /// <paramref name="userId"/> of <paramref name="partition"/> was woken by its clock: its state
    /// changed without a record, so the next barrier must collect it. False when the partition
    /// has no position to cut at yet (nothing committed and nothing read): the change then waits
    /// for the partition's first record, and a restart would fire the same timers again.
    /// </summary>
    public bool Touched(int partition, string userId)
    {
        if (!_lastSent.ContainsKey(partition))
        {
            return false;
        }

        if (!_dirty.TryGetValue(partition, out var users))
        {
            _dirty[partition] = users = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        users.TryAdd(userId, AnyOffset);
        _moved.Add(partition);
        return true;
    }

    /// <summary>
    /// The next cut must include <paramref name="partition"/> though no record moved it (its rules
    /// changed); false when it has no position to cut at yet.
    /// </summary>
    public bool Mark(int partition) => _lastSent.ContainsKey(partition) && _moved.Add(partition) | true;

    /// <summary>The last offset of <paramref name="partition"/> sent to <paramref name="userId"/> since the partition's last cut; null when none was.</summary>
    public long? LastSent(int partition, string userId) =>
        _dirty.TryGetValue(partition, out var users) && users.TryGetValue(userId, out var last) && last != AnyOffset ? last : null;

    /// <summary>A record that went to no user (a dead letter) still moves the partition's cut.</summary>
    public void Skipped(int partition, long offset)
    {
        _lastSent[partition] = offset;
        _moved.Add(partition);
    }

    /// <summary>The last offset of <paramref name="partition"/> handled (sent or skipped), or where it resumed; null when neither.</summary>
    public long? LastOffset(int partition) => _lastSent.TryGetValue(partition, out var last) ? last : null;

    /// <summary>The partitions that moved since their last cut.</summary>
    public IEnumerable<int> Partitions => _moved;

    /// <summary>Cuts partition <paramref name="partition"/> for epoch <paramref name="epoch"/> and starts its next interval.</summary>
    public BarrierCut Cut(long epoch, int partition)
    {
        var expected = _dirty.Remove(partition, out var users) ? users : new Dictionary<string, long>();
        var next = _moved.Remove(partition) && _lastSent.TryGetValue(partition, out var last) ? last + 1 : throw new InvalidOperationException($"partition {partition} has nothing to cut");
        return new BarrierCut(epoch, partition, next, expected);
    }

    /// <summary>Forgets a partition (revoked, or rewinding to its last commit).</summary>
    public void Forget(int partition)
    {
        _dirty.Remove(partition);
        _lastSent.Remove(partition);
        _moved.Remove(partition);
    }

    /// <summary>Checks the users' replies against the cut.</summary>
    public static CutOutcome Verify(BarrierCut cut, IReadOnlyCollection<UserCheckpointState> replies)
    {
        var byUser = new Dictionary<string, UserCheckpointState>(StringComparer.Ordinal);
        foreach (var reply in replies)
        {
            if (reply.Epoch != cut.Epoch || reply.Partition != cut.Partition)
            {
                return new CutOutcome([], $"user {reply.UserId} answered epoch {reply.Epoch} of partition {reply.Partition}, not {cut.Epoch} of {cut.Partition}");
            }

            byUser[reply.UserId] = reply;
        }

        var states = new List<UserSnapshot>(cut.Expected.Count);
        foreach (var (user, sent) in cut.Expected)
        {
            if (!byUser.TryGetValue(user, out var reply))
            {
                return new CutOutcome([], $"user {user} did not answer the barrier");
            }

            if (sent != AnyOffset && reply.LastAppliedOffset != sent)
            {
                return new CutOutcome([], $"user {user} applied offset {reply.LastAppliedOffset}, but {sent} was sent: a record was lost in transit");
            }

            states.Add(new UserSnapshot(user, reply.State));
        }

        return new CutOutcome(states, null);
    }
}
