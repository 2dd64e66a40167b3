namespace FraudActors.Messages.Checkpoints;

/// <summary>Persist checkpoint <paramref name="Epoch"/> of a partition: the changed users' states and the offset they reflect.</summary>
/// <param name="WatermarkMs">The partition's event-time watermark at the barrier (epoch milliseconds); null before its first record.</param>
public sealed record WriteCheckpoint(long Epoch, long NextOffset, IReadOnlyList<UserSnapshot> Users, long? WatermarkMs = null)
{
    /// <summary>The rules in force from <see cref="NextOffset"/> on, recorded with the commit; null: none recorded (as before rules could change).</summary>
    public Rules.RecordedRules? Rules { get; init; }
}

/// <summary>Reply to <see cref="WriteCheckpoint"/>, sent once its commit event is durable.</summary>
public sealed record CheckpointWritten(long Epoch, long NextOffset, int Users, long Bytes, int Chunks, long? WatermarkMs = null);

/// <summary>Ask a partition journal for one user's last committed state.</summary>
/// <param name="Load">The asker's number for this request, echoed in <see cref="UserLoaded.Load"/>: a user that asked again takes only the last answer.</param>
public sealed record LoadUser(string UserId, int Load = 0);

/// <summary>Reply to <see cref="LoadUser"/>; <paramref name="State"/> is null for a user never checkpointed.</summary>
public sealed record UserLoaded(string UserId, byte[]? State, int Load = 0);

/// <summary>Ask a partition journal where its last committed checkpoint stands.</summary>
public sealed record GetPartitionCheckpoint
{
    public static GetPartitionCheckpoint Instance { get; } = new();
}

/// <summary>Reply to <see cref="GetPartitionCheckpoint"/>; <paramref name="NextOffset"/> is null before the first commit.</summary>
public sealed record PartitionCheckpoint(long Epoch, long? NextOffset, int Users)
{
    /// <summary>The watermark of the last commit (epoch milliseconds); null before the first commit or record.</summary>
    public long? WatermarkMs { get; init; }

    /// <summary>The rules the last commit recorded, in force from its next offset; null before the first commit that recorded any.</summary>
    public Rules.RecordedRules? Rules { get; init; }

    /// <summary>
    /// Every user whose state (as <see cref="LoadUser"/> returns it: committed, or handed over
    /// since) has a next timer, by due time then user id (ordinal): whom to wake after recovery.
    /// </summary>
    public IReadOnlyList<UserTimerDue> Timers { get; init; } = [];
}

/// <summary>Ask a partition journal for every user's last committed state (drills and tools; not the record path).</summary>
public sealed record GetCommittedUsers
{
    public static GetCommittedUsers Instance { get; } = new();
}

/// <summary>Reply to <see cref="GetCommittedUsers"/>.</summary>
public sealed record CommittedUsers(long Epoch, long? NextOffset, IReadOnlyList<UserSnapshot> Users, long? WatermarkMs = null);

/// <summary>
/// A message for partition <paramref name="Partition"/>'s journal, wherever in the cluster it
/// runs: the journals are entities of their own shard region, one per partition.
/// </summary>
public sealed record JournalEnvelope(int Partition, object Message);

/// <summary>
/// What sharding sends a partition journal it moves to another node: the journal stops once
/// the writes it has under way are durable, so the next owner recovers all of them.
/// </summary>
public sealed record StopJournal
{
    public static StopJournal Instance { get; } = new();
}

/// <summary>
/// Replace everything a partition journal holds with <paramref name="Users"/> at
/// <paramref name="Epoch"/> and <paramref name="NextOffset"/>: users not listed are gone. For
/// offline tools (<c>fraud rescale</c>) on a stopped job; never sent across nodes.
/// </summary>
public sealed record ReplacePartition(long Epoch, long NextOffset, IReadOnlyList<UserSnapshot> Users, long? WatermarkMs = null);

/// <summary>Reply to <see cref="ReplacePartition"/>, once the new state is durable in the journal and in the users' state store.</summary>
public sealed record PartitionReplaced(long Epoch, long NextOffset, int Users);
