using System.Globalization;
using Akka.Cluster.Sharding;
using FraudActors.Messages.Sharding;

namespace FraudActors.Engine.Users;

/// <summary>
/// Routes user messages to shards. The shard id is the Kafka partition the user's records come
/// from, not a hash of the user id: a partition's users then form exactly one shard, which is the
/// unit that a checkpoint cuts, a rewind reloads and a rebalance moves (docs/design.md, section 4), and
/// which can run on the node that reads the partition. With <paramref name="hashShards"/> &gt; 0
/// the shard is a hash of the user id instead (plain sharding, kept to measure the difference).
/// With <paramref name="hostPerShard"/> a shard's one entity is the <see cref="UserHost"/> of its
/// users (entity id = shard id), which delivers to each user's actor; without it every user is an
/// entity of its own (plain sharding, the bench's baseline).
/// </summary>
public sealed class UserMessageRouter(int hashShards = 0, bool hostPerShard = false) : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        IUserMessage when hostPerShard => ShardId(message),
        IUserMessage m => m.UserId,
        WakeUserHost wake when hostPerShard && hashShards == 0 => ShardFor(wake.Partition),
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message switch
    {
        IUserMessage m when hashShards > 0 => HashShard(m.UserId),
        IUserMessage m => ShardFor(m.Partition),
        WakeUserHost wake when hostPerShard && hashShards == 0 => ShardFor(wake.Partition),
        _ => null,
    };

    public string ShardId(string entityId, object? messageHint = null) => messageHint switch
    {
        _ when hostPerShard => entityId,
        _ when hashShards > 0 => HashShard(entityId),
        IUserMessage m => ShardFor(m.Partition),
        _ => throw new InvalidOperationException($"user {entityId}: the shard is the user's Kafka partition, which only a user message carries"),
    };

    public static string ShardFor(int partition) =>
        (uint)partition < (uint)PartitionNames.Length ? PartitionNames[partition] : partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>Shard ids of the first partitions, made once: sharding asks for one per message.</summary>
    private static readonly string[] PartitionNames = [.. Enumerable.Range(0, 1024).Select(p => p.ToString(CultureInfo.InvariantCulture))];

    /// <summary>A hash of <paramref name="key"/> that is the same in every process (FNV-1a; string.GetHashCode is not).</summary>
    public static uint StableHash(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    private string HashShard(string userId) => "h" + (StableHash(userId) % (uint)hashShards).ToString(CultureInfo.InvariantCulture);
}
