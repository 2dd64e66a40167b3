namespace FraudActors.Engine.Checkpoints.Store;

/// <summary>
/// Where a partition's users' committed states live once their checkpoint is durable
/// (docs/design.md, "State beyond memory"): a table keyed by partition journal and user, so a
/// partition holds only a bounded cache in memory. The partition journal stays the write-ahead
/// log: a checkpoint commits there first; the journal then writes its users here
/// (<see cref="WriteAsync"/>) and deletes the events this covers.
/// </summary>
public interface IUserStateStore
{
    /// <summary>The store is the process's memory (<c>--store memory</c>): reads are immediate and need no cache.</summary>
    bool InMemory { get; }

    /// <summary>One user's stored state, at once; only when <see cref="InMemory"/>.</summary>
    byte[]? ReadNow(string journal, string userId);

    /// <summary>How far the store holds <paramref name="journal"/>'s commits.</summary>
    Task<StateMark> ReadMarkAsync(string journal, CancellationToken cancellationToken);

    /// <summary>The stored states of those of <paramref name="userIds"/> that have one.</summary>
    Task<Dictionary<string, byte[]>> ReadAsync(string journal, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="write"/>'s states and moves the mark to its sequence number, in one
    /// transaction. A state never replaces one from a later commit (a node that lost the
    /// partition cannot turn a user back), and a mark never moves back.
    /// </summary>
    Task<StateMark> WriteAsync(string journal, StateWrite write, CancellationToken cancellationToken);

    /// <summary>
    /// How many users have a committed state if <paramref name="userIds"/> (committed since the
    /// mark) are counted too: the stored users plus those of them it does not hold, read at one
    /// moment (a write landing between two reads would count some twice or not at all).
    /// </summary>
    Task<long> CountWithAsync(string journal, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>Hands every stored user's id to <paramref name="each"/>, as the rows stream in (no list of them is made).</summary>
    Task ScanUserIdsAsync(string journal, Action<string> each, CancellationToken cancellationToken);

    /// <summary>Every stored user with a next timer (the state's header), unordered.</summary>
    Task<List<UserTimerDue>> TimersAsync(string journal, CancellationToken cancellationToken);

    /// <summary>Every stored user's state, unordered (tools and drills, not the record path).</summary>
    Task<List<UserSnapshot>> AllAsync(string journal, CancellationToken cancellationToken);
}

/// <summary>
/// How far the store holds a journal's commits: every commit up to journal sequence number
/// <paramref name="Sequence"/> (0: none), and how many users it stores.
/// </summary>
public sealed record StateMark(long Sequence, long Users)
{
    public static StateMark None { get; } = new(0, 0);
}

/// <summary>A user's committed state and the journal sequence number of the commit it came from.</summary>
public readonly record struct StoredState(string UserId, long Sequence, byte[] State);

/// <summary>
/// What one write stores: <paramref name="Users"/>, all committed at or before
/// <paramref name="Sequence"/>; with <paramref name="Replace"/>, they are the whole partition
/// (a compaction or a rescale in the journal) and every other stored user goes.
/// </summary>
public sealed record StateWrite(long Sequence, bool Replace, IReadOnlyList<StoredState> Users);
