using System.Collections.Concurrent;
using Akka.Actor;

namespace FraudActors.Actors.Users;

/// <summary>
/// The user hosts running in this process, by their shard region's path and shard id: a
/// partition's reader finds its users' host here and tells it directly (docs/design.md, "Direct
/// delivery"), and the node counts its resident users here. Hosts register when they start and
/// withdraw when they stop; regions of hosts are marked by <see cref="UserRegion"/>.
/// </summary>
public static class UserHostRegistry
{
    private static readonly ConcurrentDictionary<(ActorPath Region, string Shard), Entry> Hosts = new();
    private static readonly ConcurrentDictionary<ActorPath, bool> Regions = new();

    /// <summary>True when <paramref name="region"/> is a region of user hosts with a shard per partition (direct delivery applies).</summary>
    public static bool HostsPartitions(IActorRef region) => Regions.TryGetValue(region.Path, out var byPartition) && byPartition;

    /// <summary>The host of <paramref name="shard"/> of <paramref name="region"/> when it runs in this process.</summary>
    public static IActorRef? Find(IActorRef region, string shard) => Hosts.TryGetValue((region.Path, shard), out var entry) ? entry.Host : null;

    /// <summary>The users resident in this process's hosts of <paramref name="region"/>.</summary>
    public static int Users(IActorRef region) => Hosts.Where(h => h.Key.Region == region.Path).Sum(h => h.Value.Users);

    internal static void MarkRegion(IActorRef region, bool byPartition) => Regions[region.Path] = byPartition;

    internal static void Register(ActorPath region, string shard, Entry entry) => Hosts[(region, shard)] = entry;

    internal static void Withdraw(ActorPath region, string shard, Entry entry) =>
        Hosts.TryRemove(new KeyValuePair<(ActorPath, string), Entry>((region, shard), entry));

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
}
