using FraudActors.Engine.Cluster;
using FraudActors.Engine.Users;

namespace FraudActors.Engine.Composition;

/// <summary>
/// A job's two shard regions on a cluster node: the partition journals (one per partition in the
/// whole cluster) and the users. Both follow the consumer group's assignment (shard = partition,
/// allocated to the node that reads it); with hash placement users are spread by a hash instead
/// (docs/design.md, section 5, "Cluster").
/// </summary>
public static class JobShards
{
    /// <summary>The users' shard type name.</summary>
    public const string UserType = "user";

    /// <summary>Shards of hash placement: ten per node of a large cluster, as Akka advises.</summary>
    public const int HashShards = 100;

    /// <summary>Starts both regions on <paramref name="system"/>, which has joined its cluster.</summary>
    /// <param name="passivateAfter">How long a user may be idle before its host stops it (zero: never).</param>
    /// <param name="hashed">Users placed by a hash of their id rather than with their partition.</param>
    public static async Task<(IPartitionJournals Journals, IActorRef Users)> StartAsync(
        ActorSystem system,
        string topic,
        UserSettings users,
        TimeSpan passivateAfter,
        bool hashed,
        ILoggingAdapter log)
    {
        var placement = new PartitionPlacement(system, hashed ? [ShardedPartitionJournals.TypeName] : [ShardedPartitionJournals.TypeName, UserType], log);
        var journals = await ShardedPartitionJournals.StartAsync(system, topic, new PartitionJournalSettings(), placement).ConfigureAwait(false);

        // A host per shard whose children are the users (docs/design.md, "Direct delivery"): it
        // passivates idle users and, on hand-off, has each hand its state to its partition
        // journal before it stops.
        var region = await UserRegion.StartAsync(
            system,
            UserType,
            users,
            journals,
            passivateAfter,
            hashed ? null : placement.StrategyFor(UserType),
            hashed ? HashShards : 0).ConfigureAwait(false);
        if (!hashed)
        {
            placement.Follow(UserType, region);
        }

        return (journals, region);
    }
}
