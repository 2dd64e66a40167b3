using System.Globalization;
using Akka.Cluster.Sharding;
using Akka.Cluster.Sharding.External;

namespace FraudActors.Engine.Cluster;

/// <summary>
/// Keeps a Kafka partition's shards on the node that reads the partition, as Alpakka Kafka's
/// external shard allocation does: the shard id is the partition, the consumer group decides
/// which node reads it, and that node claims the shard's location (a replicated map, Akka's
/// <see cref="ExternalShardAllocation"/>). Sharding allocates new shards there and moves
/// misplaced ones at its next rebalance. Until then messages simply cross the network.
/// </summary>
/// <param name="following">The shard regions (type names) whose shards follow their partition.</param>
public sealed class PartitionPlacement(ActorSystem system, IReadOnlyCollection<string> following, ILoggingAdapter log)
{
    /// <summary>The allocation strategy of <paramref name="typeName"/>'s region.</summary>
    public IShardAllocationStrategy StrategyFor(string typeName) =>
        following.Contains(typeName)
            ? new ExternalShardAllocationStrategy(system, typeName)
            : throw new ArgumentException($"shard region {typeName} does not follow the partitions", nameof(typeName));

    private static readonly TimeSpan StatsTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IActorRef> _regions = new();

    /// <summary>How long <see cref="ClaimAndWaitAsync"/> waits for the shards to leave other nodes before it reads anyway.</summary>
    public TimeSpan HomeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The region of <paramref name="typeName"/> on this node, whose cluster statistics tell where its shards are.</summary>
    public void Follow(string typeName, IActorRef region) => _regions[typeName] = region;

    /// <summary>
    /// Claims <paramref name="partition"/>'s shards for this node and waits (at most
    /// <see cref="HomeTimeout"/>) until no other node hosts them and no member is unreachable,
    /// so that this node's first messages to its users and journal do not meet a hand-off:
    /// sharding drops the messages it buffered for a shard being handed off, and a lost record
    /// fails the stream (its ask times out) and rewinds every partition of the node. Returns
    /// how long it waited.
    /// </summary>
    public async Task<TimeSpan> ClaimAndWaitAsync(int partition)
    {
        Claim(partition);
        var shard = partition.ToString(CultureInfo.InvariantCulture);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < HomeTimeout && !await AtHomeAsync(shard).ConfigureAwait(false))
        {
            if (system.WhenTerminated.IsCompleted || Akka.Cluster.Cluster.Get(system).IsTerminated)
            {
                throw new InvalidOperationException($"partition {partition}: this node has left the cluster");
            }

            await Task.Delay(PollInterval).ConfigureAwait(false);
        }

        if (waited.Elapsed >= HomeTimeout)
        {
            log.Warning("Partition {0}: its users and journal did not come to this node within {1}; reading anyway", partition, HomeTimeout);
        }

        return waited.Elapsed;
    }

    private async Task<bool> AtHomeAsync(string shard)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (!cluster.State.Unreachable.IsEmpty)
        {
            // A node that cannot be reached may still host the shard: it is downed (and its
            // shards freed) by the split-brain resolver, or it comes back.
            return false;
        }

        foreach (var region in _regions.Values)
        {
            try
            {
                var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(StatsTimeout), StatsTimeout + StatsTimeout).ConfigureAwait(false);

                // An answer without this node's own region is one where some region did not answer.
                if (!stats.Regions.ContainsKey(cluster.SelfAddress) || stats.Regions.Any(r => r.Key != cluster.SelfAddress && r.Value.Stats.ContainsKey(shard)))
                {
                    return false;
                }
            }
            catch (AskTimeoutException)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>This node reads <paramref name="partition"/>: its shards should live here.</summary>
    public void Claim(int partition)
    {
        var shard = partition.ToString(CultureInfo.InvariantCulture);
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        foreach (var typeName in following)
        {
            ExternalShardAllocation.Get(system).ClientFor(typeName).UpdateShardLocation(shard, self).ContinueWith(
                t => log.Warning("Shard {0} of {1} not placed on this node ({2}); sharding keeps it where it is", shard, typeName, t.Exception?.GetBaseException().Message),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }
    }
}
