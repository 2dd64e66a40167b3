using System.Collections.Concurrent;

namespace FraudActors.Engine.Users;

/// <summary>
/// The user hosts running in an actor system, by their shard region's path and shard id: a
/// partition's reader finds its users' host here and tells it directly (docs/design.md, "Direct
/// delivery"), and the node counts its resident users here. Hosts register when they start and
/// withdraw when they stop; regions of hosts are marked by <see cref="UserRegion"/>. One per
/// actor system (an extension): systems of one process may share names and paths.
/// </summary>
public sealed class UserHostRegistry : IExtension
{
    private readonly ConcurrentDictionary<(ActorPath Region, string Shard), Entry> _hosts = new();
    private readonly ConcurrentDictionary<ActorPath, bool> _regions = new();

    public static UserHostRegistry For(ActorSystem system) => system.WithExtension<UserHostRegistry, UserHostRegistryProvider>();

    /// <summary>True when <paramref name="region"/> is a region of user hosts with a shard per partition (direct delivery applies).</summary>
    public static bool HostsPartitions(IActorRef region) => Of(region)._regions.TryGetValue(region.Path, out var byPartition) && byPartition;

    /// <summary>The host of <paramref name="shard"/> of <paramref name="region"/> when it runs in the region's actor system.</summary>
    public static IActorRef? Find(IActorRef region, string shard) => Of(region)._hosts.TryGetValue((region.Path, shard), out var entry) ? entry.Host : null;

    /// <summary>The users resident in the hosts of <paramref name="region"/> in its actor system.</summary>
    public static int Users(IActorRef region) => Of(region)._hosts.Where(h => h.Key.Region == region.Path).Sum(h => h.Value.Users);

    internal static void MarkRegion(IActorRef region, bool byPartition) => Of(region)._regions[region.Path] = byPartition;

    internal void Register(ActorPath region, string shard, Entry entry) => _hosts[(region, shard)] = entry;

    internal void Withdraw(ActorPath region, string shard, Entry entry) =>
        _hosts.TryRemove(new KeyValuePair<(ActorPath, string), Entry>((region, shard), entry));

    private static UserHostRegistry Of(IActorRef region) => For(((IInternalActorRef)region).Provider.Settings.System);

    /// <summary>A running host and its count of users, written by the host alone.</summary>
    internal sealed class Entry(IActorRef host)
    {
        private int _users;

        public IActorRef Host { get; } = host;

        public int Users
        {
            get => Volatile.Read(ref _users);
            set => Volatile.Write(ref _users, value);
        }
    }

    private sealed class UserHostRegistryProvider : ExtensionIdProvider<UserHostRegistry>
    {
        public override UserHostRegistry CreateExtension(ExtendedActorSystem system) => new();
    }
}
