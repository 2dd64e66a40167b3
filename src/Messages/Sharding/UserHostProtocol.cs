namespace FraudActors.Messages.Sharding;

/// <summary>
/// Starts the host of a partition's users (the sharded entity whose children they are) if it
/// is not running, before the partition's first record: the reader then delivers to it directly.
/// </summary>
public sealed record WakeUserHost(int Partition);

/// <summary>Reply to <see cref="WakeUserHost"/>: the host of <paramref name="Shard"/> runs.</summary>
public sealed record UserHostAwake(string Shard);
