using FraudActors.Messages.Sharding;

namespace FraudActors.Messages.Checkpoints;

/// <summary>
/// The checkpoint barrier of epoch <paramref name="Epoch"/>, sent to a user in order behind the
/// records of <paramref name="Partition"/> it received: the user answers with its state as of
/// the barrier.
/// </summary>
public sealed record CheckpointBarrier(long Epoch, int Partition, string UserId) : IUserMessage
{
    /// <summary>
    /// The last offset of the partition sent to this user before the barrier (null: only its
    /// clock woke it). A user that has not applied it lost a record in transit: it applies and
    /// fires nothing more of the run, so no output leaves from a state behind the stream while
    /// the checkpoint fails (docs/design.md, section 4, step 3).
    /// </summary>
    public long? ExpectedOffset { get; init; }
}

/// <summary>A user's answer to a <see cref="CheckpointBarrier"/>: its serialized state and the last offset it applied.</summary>
public sealed record UserCheckpointState(string UserId, int Partition, long Epoch, long LastAppliedOffset, byte[] State);

/// <summary>
/// The message sharding sends a user to stop it (passivation, rebalance hand-off, shutdown): the
/// user hands its state to its partition journal first.
/// </summary>
public sealed record StopUser
{
    public static StopUser Instance { get; } = new();
}

/// <summary>A stopping user's state, kept by its partition journal until the next checkpoint persists it.</summary>
public sealed record HandOverUser(string UserId, byte[] State);

public sealed record UserHandedOver(string UserId);

/// <summary>
/// Forget everything not committed (states handed over since the last checkpoint): the
/// partition is rewinding to its last commit.
/// </summary>
public sealed record RewindPartition
{
    public static RewindPartition Instance { get; } = new();
}
