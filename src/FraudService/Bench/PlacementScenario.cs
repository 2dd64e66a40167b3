using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FraudActors.Actors.Kafka;
using FraudActors.FraudService.Configuration;
using FraudActors.FraudService.Drill;
using FraudActors.FraudService.Producing;

namespace FraudActors.FraudService.Bench;

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

    /// <summary>Assignments settle when no node logged a new one for this long (a bench, not a test: it only has to be fair to both runs).</summary>
    private static readonly TimeSpan Settled = TimeSpan.FromSeconds(5);

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
        using var broker = Cli.BrokerCommand.Start(topics, Partitions);
        var ports = Enumerable.Range(0, Nodes).Select(_ => FreePort()).ToList();
        var environment = new Dictionary<string, string>
        {
            ["FRAUD_ENV"] = "dev",
            ["FRAUD_BOOTSTRAP"] = broker.BootstrapServers,
            ["FRAUD_TOPIC"] = topic,
            ["FRAUD_GROUP"] = topic,
            ["FRAUD_STORE"] = context.Store,
            ["FRAUD_CONNECTION"] = context.Connection,
            ["FRAUD_SEED_NODES"] = string.Join(',', ports.Take(2).Select(p => $"127.0.0.1:{p}")),
            ["FRAUD_SHARD_ALLOCATION"] = allocation,
        };
        var nodes = ports.Select(port => ServiceProcess.Start(environment, "run", "--node-port", port.ToString(CultureInfo.InvariantCulture), "--checkpoint-interval", "500ms")).ToList();
        try
        {
            await SettleAsync(nodes, stop).ConfigureAwait(false);
            var options = new GeneratorOptions(Seed: 7, Users: 20_000, Rate: 500, Cli.ProduceCommand.SeededStart, transactions);
            var clock = Stopwatch.StartNew();
            await TransactionProducer.RunAsync(
                broker.BootstrapServers, topic, new TransactionGenerator(options).Generate().Select(TransactionGenerator.ToRecord), options.Rate, maxSpeed: true, progress: null, stop).ConfigureAwait(false);
            while (TopicReader.CommittedOffsets(broker.BootstrapServers, topic, topic, Partitions, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o)) < transactions)
            {
                Fail(nodes, clock, "did not commit every record");
                await Task.Delay(20, stop).ConfigureAwait(false);
            }

            var seconds = clock.Elapsed.TotalSeconds;
            var (remote, applied) = (0L, 0L);
            foreach (var node in nodes)
            {
                await node.InterruptAsync(Timeout).ConfigureAwait(false);
                var traffic = node.StandardError.Select(l => TrafficLine().Match(l)).LastOrDefault(m => m.Success)
                    ?? throw new InvalidOperationException("placement bench: a node did not report its users' records:\n" + string.Join('\n', node.StandardError.TakeLast(10)));
                remote += long.Parse(traffic.Groups["remote"].Value, CultureInfo.InvariantCulture);
                applied += long.Parse(traffic.Groups["all"].Value, CultureInfo.InvariantCulture);
            }

            context.Say(string.Create(CultureInfo.InvariantCulture, $"placement: {allocation}: {seconds:0.0} s, {remote} of {applied} records applied on another node than the one that read them"));
            return new Run(seconds, remote, applied);
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    /// <summary>Waits until every node has partitions and none logged a new assignment for <see cref="Settled"/>.</summary>
    private static async Task SettleAsync(List<ServiceProcess> nodes, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var (lines, quietSince) = (0, clock.Elapsed);
        while (true)
        {
            Fail(nodes, clock, "did not get its partitions");
            var assignments = nodes.Select(n => n.StandardError.Count(l => l.Contains("Partitions assigned:", StringComparison.Ordinal))).ToList();
            if (assignments.Sum() != lines)
            {
                (lines, quietSince) = (assignments.Sum(), clock.Elapsed);
            }
            else if (assignments.All(a => a > 0) && clock.Elapsed - quietSince > Settled)
            {
                return;
            }

            await Task.Delay(100, stop).ConfigureAwait(false);
        }
    }

    private static void Fail(List<ServiceProcess> nodes, Stopwatch clock, string what)
    {
        if (nodes.FirstOrDefault(n => n.HasExited) is { } exited)
        {
            throw new InvalidOperationException("placement bench: a node exited:\n" + string.Join('\n', exited.StandardError.TakeLast(20)));
        }

        if (clock.Elapsed > Timeout)
        {
            throw new TimeoutException($"placement bench: the cluster {what} within {Timeout}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"user-records-from-other-nodes=(?<remote>\d+)/(?<all>\d+)")]
    private static partial Regex TrafficLine();

    private sealed record Run(double Seconds, long Remote, long Applied)
    {
        public double RemoteShare => Applied == 0 ? 0 : (double)Remote / Applied;
    }
}
