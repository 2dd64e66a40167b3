using System.Collections.Concurrent;
using System.Globalization;
using Akka.Cluster.Sharding;
using FraudActors.Engine.Cluster;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// The partition journals of a cluster: entities of their own shard region (entity = shard =
/// partition), so each partition has exactly one journal in the whole cluster, whichever node
/// reads the partition and wherever its users run. A user that stops on another node hands its
/// state to the same journal the reading node checkpoints to; a node that takes a partition over
/// recovers the journal the previous owner committed to, never a stale copy of its own.
/// <see cref="Claim"/> asks for the journal (and the partition's users) to run on this node:
/// sharding moves them here at its next rebalance, after the previous owner's writes are durable.
/// </summary>
public sealed class ShardedPartitionJournals : IPartitionJournals
{
    public const string TypeName = "partition-journal";

    private readonly ActorSystem _system;
    private readonly IActorRef _region;
    private readonly PartitionPlacement _placement;
    private readonly ConcurrentDictionary<int, Lazy<IActorRef>> _proxies = new();
    private readonly ConcurrentDictionary<int, bool> _claimed = new();
    private readonly string _topic;
    private readonly LocalJournalViews _views;

    private ShardedPartitionJournals(ActorSystem system, string topic, IActorRef region, PartitionPlacement placement)
    {
        _system = system;
        _topic = topic;
        _region = region;
        _placement = placement;
        _views = LocalJournalViews.For(system);
    }

    public IReadOnlyCollection<IActorRef> Started => [.. _claimed.Keys.Order().Select(For)];

    /// <summary>Starts the journal region on this node; <paramref name="placement"/> places its shards where their partitions are read.</summary>
    public static async Task<ShardedPartitionJournals> StartAsync(ActorSystem system, string topic, PartitionJournalSettings settings, PartitionPlacement placement)
    {
        var sharding = ClusterSharding.Get(system);

        // Never passivated: an idle journal still holds the states its users handed over.
        var shardingSettings = ClusterShardingSettings.Create(system).WithPassivateIdleAfter(TimeSpan.Zero);
        var region = await sharding.StartAsync(
            TypeName,
            entityId => PartitionJournals.Supervised(topic, int.Parse(entityId, CultureInfo.InvariantCulture), settings),
            shardingSettings,
            new JournalMessageRouter(),
            placement.StrategyFor(TypeName),
            StopJournal.Instance).ConfigureAwait(false);
        placement.Follow(TypeName, region);
        return new ShardedPartitionJournals(system, topic, region, placement);
    }

    /// <summary>Found when the partition's journal entity runs on this node, as placement puts it with the partition's reader.</summary>
    public JournalView? LocalView(int partition) => _views.Find(_topic, partition);

    /// <summary>An actor of this node that forwards to the partition's journal, the sender kept, so asks and replies work as with a local journal.</summary>
    public IActorRef For(int partition) =>
        _proxies.GetOrAdd(
            partition,
            p => new Lazy<IActorRef>(() => _system.ActorOf(Props.Create(() => new JournalForwarder(_region, p)), string.Create(CultureInfo.InvariantCulture, $"journal-of-partition-{p}")))).Value;

    /// <summary>Claims the partition's shards; completes once they are no longer on another node.</summary>
    public async Task ClaimAsync(int partition)
    {
        _claimed[partition] = true;
        var waited = await _placement.ClaimAndWaitAsync(partition).ConfigureAwait(false);
        if (waited > TimeSpan.FromMilliseconds(500))
        {
            _system.Log.Info("Partition {0}: waited {1:0} ms for its users and journal to leave the node that read it before", partition, waited.TotalMilliseconds);
        }
    }

    public void Release(int partition) => _claimed.TryRemove(partition, out _);

    /// <summary>Journal messages travel in an envelope naming their partition: the entity and the shard.</summary>
    private sealed class JournalMessageRouter : IMessageExtractor
    {
        public string? EntityId(object message) => message is JournalEnvelope e ? Id(e.Partition) : null;

        public object? EntityMessage(object message) => message is JournalEnvelope e ? e.Message : message;

        public string? ShardId(object message) => message is JournalEnvelope e ? Id(e.Partition) : null;

        public string ShardId(string entityId, object? messageHint = null) => entityId;

        private static string Id(int partition) => partition.ToString(CultureInfo.InvariantCulture);
    }

    private sealed class JournalForwarder : ReceiveActor
    {
        public JournalForwarder(IActorRef region, int partition) =>
            ReceiveAny(message => region.Forward(new JournalEnvelope(partition, message)));
    }
}
