namespace FraudActors.Messages.Checkpoints;

/// <summary>Persist checkpoint <paramref name="Epoch"/> of a partition: the changed users' states and the offset they reflect.</summary>
public sealed record WriteCheckpoint(long Epoch, long NextOffset, IReadOnlyList<UserSnapshot> Users);

/// <summary>Reply to <see cref="WriteCheckpoint"/>, sent once its commit event is durable.</summary>
public sealed record CheckpointWritten(long Epoch, long NextOffset, int Users, long Bytes, int Chunks);

/// <summary>Ask a partition journal for one user's last committed state.</summary>
public sealed record LoadUser(string UserId);

/// <summary>Reply to <see cref="LoadUser"/>; <paramref name="State"/> is null for a user never checkpointed.</summary>
public sealed record UserLoaded(string UserId, byte[]? State);

/// <summary>Ask a partition journal where its last committed checkpoint stands.</summary>
public sealed record GetPartitionCheckpoint
{
    public static GetPartitionCheckpoint Instance { get; } = new();
}

/// <summary>Reply to <see cref="GetPartitionCheckpoint"/>; <paramref name="NextOffset"/> is null before the first commit.</summary>
public sealed record PartitionCheckpoint(long Epoch, long? NextOffset, int Users);

/// <summary>Ask a partition journal for every user's last committed state (drills and tools; not the record path).</summary>
public sealed record GetCommittedUsers
{
    public static GetCommittedUsers Instance { get; } = new();
}

/// <summary>Reply to <see cref="GetCommittedUsers"/>.</summary>
public sealed record CommittedUsers(long Epoch, long? NextOffset, IReadOnlyList<UserSnapshot> Users);
