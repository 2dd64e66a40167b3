using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Testkit;

/// <summary>A TestKit actor system as a one-node cluster with the user shard region, as a node runs it.</summary>
public static class OneNodeCluster
{
    /// <summary>A new instance each time, so no test system shares configuration with another.</summary>
    public static Config Config => On(JournalStore.Memory, string.Empty);

    /// <summary>
    /// A one-node cluster with sharding as a node runs its users (loopback, any free port, the
    /// node's compact mailbox for actors that stash), its journals on <paramref name="store"/>.
    /// </summary>
    public static Config On(string store, string connection) => ConfigurationFactory.ParseString($"""
        {FraudActors.Engine.Dispatch.CompactMailbox.Hocon}
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = WARNING
        """).WithFallback(JournalStore.Config(store, connection)).WithFallback(ClusterSharding.DefaultConfig());

    /// <summary>Joins the system to itself and starts the user region with the default rules.</summary>
    public static async Task<IActorRef> StartUsersAsync(ActorSystem system, string typeName = "user", TimeSpan? passivateIdleAfter = null, IPartitionJournals? journals = null, UserSettings? users = null)
    {
        var cluster = Cluster.Get(system);
        await cluster.JoinAsync(cluster.SelfAddress);
        return await UserRegion.StartAsync(system, typeName, users ?? RuleSettings.Default, journals, passivateIdleAfter ?? TimeSpan.Zero);
    }
}
