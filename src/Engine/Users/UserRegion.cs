using Akka.Cluster.Sharding;
using FraudActors.Messages.Sharding;

namespace FraudActors.Engine.Users;

/// <summary>
/// Starts the users' shard region as a node runs it: a <see cref="UserHost"/> per shard (the
/// shard is the user's Kafka partition, or a hash with <paramref name="hashShards"/> &gt; 0) whose
/// children are the users' actors. Sharding never passivates a host; the host passivates its idle
/// users itself, and on hand-off (<see cref="StopUser"/>) stops them after they hand their state over.
/// </summary>
public static class UserRegion
{
    public static async Task<IActorRef> StartAsync(
        ActorSystem system,
        string typeName,
        UserSettings settings,
        IPartitionJournals? journals,
        TimeSpan passivateAfter,
        IShardAllocationStrategy? allocation = null,
        int hashShards = 0,
        TimeProvider? clock = null)
    {
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system).WithPassivateIdleAfter(TimeSpan.Zero);
        var time = clock ?? TimeProvider.System;
        var hostProps = UserHost.PropsFor(userId => UserActor.PropsFor(userId, settings, time, journals), passivateAfter);
        var region = await sharding.StartAsync(
            typeName,
            _ => hostProps,
            shardingSettings,
            new UserMessageRouter(hashShards, hostPerShard: true),
            allocation ?? sharding.DefaultShardAllocationStrategy(shardingSettings),
            StopUser.Instance).ConfigureAwait(false);
        UserHostRegistry.MarkRegion(region, byPartition: hashShards == 0);
        return region;
    }

    /// <summary>
    /// Starts the host of <paramref name="partition"/> (a region of hosts by partition) if it is
    /// not running and waits for its answer, which comes through the region behind whatever the
    /// region held for that shard.
    /// </summary>
    public static Task WakeHostAsync(IActorRef region, int partition, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        region.Ask<UserHostAwake>(new WakeUserHost(partition), timeout, cancellationToken);

    /// <summary>Starts the hosts of <paramref name="partitions"/> and waits until each runs.</summary>
    public static Task WakeHostsAsync(IActorRef region, IEnumerable<int> partitions, CancellationToken cancellationToken) =>
        Task.WhenAll(partitions.Select(p => WakeHostAsync(region, p, TimeSpan.FromSeconds(30), cancellationToken)));
}
