namespace FraudActors.Messages.Checkpoints;

/// <summary>One user's checkpointed state, already serialized by its versioned codec.</summary>
public sealed record UserSnapshot(string UserId, byte[] State);

/// <summary>
/// Journal event of a partition journal: part of the changed users' states of checkpoint
/// <paramref name="Epoch"/>. It counts only once a <see cref="CheckpointCommitted"/> of the same
/// epoch follows it; recovery ignores chunks without one.
/// </summary>
public sealed record CheckpointChunk(long Epoch, int Index, IReadOnlyList<UserSnapshot> Users);

/// <summary>
/// Journal event that makes checkpoint <paramref name="Epoch"/> real: every chunk of the epoch
/// before it, and <paramref name="NextOffset"/>, the partition's next offset to read (Kafka's
/// convention: last applied + 1).
/// </summary>
/// <param name="WatermarkMs">
/// The partition's event-time watermark as of the barrier (epoch milliseconds); null before its
/// first record, and in events written before watermarks existed (<c>commit.v1</c>).
/// </param>
public sealed record CheckpointCommitted(long Epoch, long NextOffset, int Users, long Bytes, long? WatermarkMs = null)
{
    /// <summary>The rules in force from <see cref="NextOffset"/> on (<c>commit.v3</c>); null in older events and when none were recorded.</summary>
    public Rules.RecordedRules? Rules { get; init; }
}

/// <summary>
/// Journal event that closes a compaction (a full snapshot written as ordinary chunks): the
/// chunks of <paramref name="Epoch"/> right before it hold every user of the partition as of
/// that committed epoch, so recovery can start at them and the events before them are deleted.
/// Chunks of a compaction cut short by a crash have no such event and are ignored.
/// </summary>
/// <param name="WatermarkMs">The watermark committed with <paramref name="Epoch"/>, which recovery restores from here once the commit is deleted.</param>
public sealed record CheckpointCompacted(long Epoch, long NextOffset, int Users, int Chunks, long? WatermarkMs = null);

/// <summary>Snapshot of a partition journal: every user's last committed state and the offset they reflect.</summary>
public sealed record PartitionSnapshot(long Epoch, long NextOffset, IReadOnlyList<UserSnapshot> Users);
