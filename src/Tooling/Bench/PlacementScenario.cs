using System.Text.RegularExpressions;
using FraudActors.Engine.Kafka;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;
using FraudActors.Tooling.Drill;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Where users run in a cluster: three <c>fraud run</c> processes on loopback read one stream
/// of six partitions, once with users spread by a hash of their id (plain sharding, the
/// baseline) and once with each partition's users on the node that reads the partition
/// (<c>--shard-allocation partition</c>, the default). Each run is timed from the first record
/// produced to the last one committed, and counts how many of the records users applied were
/// read on another node: each of those crossed the network twice (the record and its reply).
/// </summary>
public sealed partial class PlacementScenario(int transactions) : IBenchScenario
{
    private const int Nodes = 3;
    private const int Partitions = 6;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public string Name => "placement";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        context.Say($"placement: {Nodes} nodes on loopback, {Partitions} partitions, {transactions} transactions at full speed, checkpoints every 500 ms");
        var hash = await MeasureAsync(context, ShardPlacement.Hash, stop).ConfigureAwait(false);
        var partition = await MeasureAsync(context, ShardPlacement.Partition, stop).ConfigureAwait(false);
        foreach (var (name, run) in new[] { (ShardPlacement.Hash, hash), (ShardPlacement.Partition, partition) })
        {
            context.Figure(Name, $"{name}_seconds", run.Seconds);
            context.Figure(Name, $"{name}_records_per_second", transactions / run.Seconds);
            context.Figure(Name, $"{name}_remote_share", run.RemoteShare);
            context.Line(
                Name,
                ("allocation", name),
                ("seconds", run.Seconds),
                ("records_per_second", Math.Round(transactions / run.Seconds)),
                ("records_read_on_another_node", $"{run.Remote}/{run.Applied}"),
                ("remote_share", run.RemoteShare),
                ("vs_hash", hash.Seconds / run.Seconds));
        }

        context.Figure(Name, "speedup_vs_hash", hash.Seconds / partition.Seconds);
    }

    private async Task<Run> MeasureAsync(BenchContext context, string allocation, CancellationToken stop)
    {
        var topic = $"placement-{allocation}-{Guid.NewGuid().ToString("N")[..6]}";
        var topics = new TopicNames(topic, "alerts", "transactions.dlq");
        using var broker = Service.Cli.BrokerCommand.Start(topics, Partitions);
        var environment = new Dictionary<string, string>
        {
            ["FRAUD_ENV"] = "dev",
            ["FRAUD_BOOTSTRAP"] = broker.BootstrapServers,
            ["FRAUD_TOPIC"] = topic,
            ["FRAUD_GROUP"] = topic,
            ["FRAUD_STORE"] = context.Store,
            ["FRAUD_CONNECTION"] = context.Connection,
            ["FRAUD_SHARD_ALLOCATION"] = allocation,
        };
        await using var cluster = new NodeCluster(Nodes, topic, environment, ["run", "--checkpoint-interval", "500ms"]);
        var clock = Stopwatch.StartNew();
        foreach (var node in Enumerable.Range(1, Nodes))
        {
            await cluster.StartAsync(node, stop).ConfigureAwait(false);
        }

        // Both runs start timing on a group at rest: every partition held by one node, every node holding some.
        await WaitAsync(cluster, clock, () => cluster.Ownership.Settled(cluster.Running, Partitions), "did not settle", stop).ConfigureAwait(false);
        var options = new GeneratorOptions(Seed: 7, Users: 20_000, Rate: 500, Service.Cli.ProduceCommand.SeededStart, transactions);
        clock.Restart();
        await TransactionProducer.RunAsync(
            broker.BootstrapServers, topic, new TransactionGenerator(options).Generate().Select(TransactionGenerator.ToRecord), options.Rate, maxSpeed: true, progress: null, stop).ConfigureAwait(false);
        await WaitAsync(
            cluster,
            clock,
            () => TopicReader.CommittedOffsets(broker.BootstrapServers, topic, topic, Partitions, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o)) >= transactions,
            "did not commit every record",
            stop).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;

        var (remote, applied) = (0L, 0L);
        foreach (var node in cluster.Running.ToList())
        {
            var process = cluster.Process(node);
            await cluster.InterruptAsync(node, Timeout).ConfigureAwait(false);
            var traffic = process.StandardError.Select(l => TrafficLine().Match(l)).LastOrDefault(m => m.Success)
                ?? throw new InvalidOperationException($"placement bench: {NodeCluster.Name(node)} did not report its users' records:\n{cluster.Tail(node, 10)}");
            remote += long.Parse(traffic.Groups["remote"].Value, CultureInfo.InvariantCulture);
            applied += long.Parse(traffic.Groups["all"].Value, CultureInfo.InvariantCulture);
        }

        context.Say(string.Create(CultureInfo.InvariantCulture, $"placement: {allocation}: {seconds:0.0} s, {remote} of {applied} records applied on another node than the one that read them"));
        return new Run(seconds, remote, applied);
    }

    /// <summary>Polls <paramref name="condition"/>; a node that exits, or <see cref="Timeout"/>, ends the bench.</summary>
    private static async Task WaitAsync(NodeCluster cluster, Stopwatch clock, Func<bool> condition, string what, CancellationToken stop)
    {
        while (!condition())
        {
            if (cluster.Failure() is { } failure)
            {
                throw new InvalidOperationException("placement bench: " + failure);
            }

            if (clock.Elapsed > Timeout)
            {
                throw new TimeoutException($"placement bench: the cluster {what} within {Timeout}");
            }

            await Task.Delay(20, stop).ConfigureAwait(false);
        }
    }

    [GeneratedRegex(@"user-records-from-other-nodes=(?<remote>\d+)/(?<all>\d+)")]
    private static partial Regex TrafficLine();

    private sealed record Run(double Seconds, long Remote, long Applied)
    {
        public double RemoteShare => Applied == 0 ? 0 : (double)Remote / Applied;
    }
}
