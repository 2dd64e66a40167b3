using System.Globalization;
using Akka.Cluster.Sharding;
using FraudActors.Messages.Sharding;

namespace FraudActors.Actors.Users;

/// <summary>
/// Routes user messages to shards. The shard id is the Kafka partition the user's records come
/// from, not a hash of the user id: a partition's users then form exactly one shard, which is the
/// unit that a checkpoint cuts, a rewind reloads and a rebalance moves (DESIGN.md section 4).
/// </summary>
public sealed class UserMessageRouter : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        IUserMessage m => m.UserId,
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message switch
    {
        IUserMessage m => ShardFor(m.Partition),
        _ => null,
    };

    public string ShardId(string entityId, object? messageHint = null) =>
        messageHint is IUserMessage m
            ? ShardFor(m.Partition)
            : throw new InvalidOperationException($"user {entityId}: the shard is the user's Kafka partition, which only a user message carries");

    public static string ShardFor(int partition) => partition.ToString(CultureInfo.InvariantCulture);
}
