namespace FraudActors.Messages.Sharding;

/// <summary>
/// A message for one user's actor. The partition travels with it because users are sharded by
/// the Kafka partition their records come from: a partition's users form one shard.
/// </summary>
public interface IUserMessage
{
    string UserId { get; }

    int Partition { get; }
}
