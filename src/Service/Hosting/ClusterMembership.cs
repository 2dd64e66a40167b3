using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using FraudActors.Engine.Checkpoints;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Hosting;

/// <summary>
/// How a node becomes a member of its job's cluster: the actor system's configuration (address,
/// job role, store, TLS), the join (through the store, or the seed nodes, or alone) and the check
/// that every member runs the same job (docs/design.md, "One cluster per job").
/// </summary>
public static class ClusterMembership
{
    private const string JobRolePrefix = "job-";

    /// <summary>The job a node serves: its consumer group and input topic (a cluster serves one).</summary>
    public static string JobKey(FraudSettings settings) => settings.GroupId + "/" + settings.Topics.Transactions;

    /// <summary>The actor system's configuration: the node's address and job role over the store's journal and the HOCON files.</summary>
    public static Config AkkaConfig(FraudSettings settings)
    {
        var derived = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            akka.remote.dot-netty.tcp.hostname = "{settings.Node.Hostname}"
            akka.remote.dot-netty.tcp.port = {settings.Node.Port}
            akka.cluster.roles = ["{JobRole(settings)}"]
            akka.remote.dot-netty.tcp.enable-ssl = {(settings.Node.Tls is null ? "off" : "on")}
            """));
        return derived
            .WithFallback(JournalStore.Config(settings.Store, settings.Connection))
            .WithFallback(settings.Hocon)
            // Sharding's, the singleton's and distributed data's settings and serializers from the
            // start: other nodes may send their messages before this node's sharding has started.
            .WithFallback(ClusterSharding.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig())
            .WithFallback(Akka.DistributedData.DistributedData.DefaultConfig());
    }

    /// <summary>
    /// Joins the job's cluster: through the store (PostgreSQL without seed nodes), else the seed
    /// nodes, else this node alone; then checks that the members run this node's job. Returns the
    /// store membership to give up when the node ends (null when the store was not used).
    /// </summary>
    internal static async Task<StoreDiscovery?> JoinAsync(ActorSystem system, FraudSettings settings, ILoggingAdapter log, CancellationToken cancellationToken)
    {
        var discovery = settings.Node.SeedNodes.Count == 0 && settings.Store == JournalStore.Postgres
            ? await StoreDiscovery.JoinAsync(system, settings.Connection, JobKey(settings), log, cancellationToken).ConfigureAwait(false)
            : null;
        try
        {
            if (discovery is null)
            {
                await JoinSeedsAsync(system, settings.Node, cancellationToken).ConfigureAwait(false);
            }

            await CheckOneJobAsync(system, settings).ConfigureAwait(false);
            return discovery;
        }
        catch
        {
            if (discovery is not null)
            {
                await discovery.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// The node's job as a cluster role: its consumer group and topic (hex, so any name fits a
    /// role). Nodes that join one cluster must run one job; <see cref="CheckOneJobAsync"/> compares.
    /// </summary>
    private static string JobRole(FraudSettings settings) =>
        JobRolePrefix + Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(settings.GroupId + "\n" + settings.Topics.Transactions));

    /// <summary>
    /// A node that joined a cluster running another job (other consumer group or topic) leaves
    /// and stops with a message naming both: one cluster, one job.
    /// </summary>
    private static async Task CheckOneJobAsync(ActorSystem system, FraudSettings settings)
    {
        var cluster = Cluster.Get(system);
        var mine = JobRole(settings);
        var other = cluster.State.Members
            .Where(m => m.Address != cluster.SelfAddress)
            .Select(m => (m.Address, Role: m.Roles.FirstOrDefault(r => r.StartsWith(JobRolePrefix, StringComparison.Ordinal))))
            .FirstOrDefault(m => m.Role is not null && m.Role != mine);
        if (other.Role is null)
        {
            return;
        }

        var job = System.Text.Encoding.UTF8.GetString(Convert.FromHexString(other.Role[JobRolePrefix.Length..])).Split('\n');
        using (var leaving = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await cluster.LeaveAsync(leaving.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        throw new Configuration.ConfigurationException(
            $"--group/--topic: this node runs group '{settings.GroupId}' on topic '{settings.Topics.Transactions}', but cluster node {other.Address} runs group '{job[0]}' on topic '{job[^1]}'; the nodes of one cluster must run one job");
    }

    /// <summary>
    /// Joins the seed nodes when some are configured (retrying until one answers, as Akka does),
    /// else this node alone. Returns once this node is Up.
    /// </summary>
    private static async Task JoinSeedsAsync(ActorSystem system, NodeSettings node, CancellationToken cancellationToken)
    {
        var cluster = Cluster.Get(system);
        var up = MemberUp.Register(system);
        if (node.SeedNodes.Count == 0)
        {
            await MemberUp.WaitAsync(system, cluster.JoinAsync(cluster.SelfAddress, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var seeds = node.SeedNodes.Select(s => new Address(cluster.SelfAddress.Protocol, system.Name, s.Host, s.Port)).ToList();
            await MemberUp.WaitAsync(system, cluster.JoinSeedNodesAsync(seeds, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        await MemberUp.WaitAsync(system, up, cancellationToken).ConfigureAwait(false);
    }
}
