using FraudActors.Engine.Checkpoints;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>
/// A node crash in a cluster, tested for real: three <c>fraud run</c> processes on PostgreSQL
/// form one cluster over six partitions; one is killed with SIGKILL while the stream flows, the
/// other two take its partitions over and finish the stream; started again, it joins back, is
/// given partitions and processes what is produced after. Stopped gracefully, the cluster has
/// published every alert once and checkpointed every user's count as the input dictates.
/// </summary>
public sealed class ThreeNodeClusterTests
{
    private const int Seed = 11;
    private const int Partitions = 6;
    private const int BeforeRejoin = 6000;
    private const int AfterRejoin = 2000;
    private const int Users = 2000;
    private const string Group = "three-node-test";
    private const string Topic = "transactions";
    private const int Victim = 3;

    /// <summary>Records a second while the victim dies: the stream then lasts about 20 s, so the kill lands in it.</summary>
    private const double Pace = 300;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Two_nodes_take_over_a_killed_nodes_partitions_it_joins_back_and_no_alert_or_count_is_lost_or_doubled()
    {
        var database = await TestPostgres.CreateDatabaseAsync("cluster");
        var bootstrapFile = Path.GetTempFileName();
        await using var broker = FraudProcess.Start("broker", "--partitions", $"{Partitions}", "--bootstrap-file", bootstrapFile);
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var stream = new TransactionGenerator(new GeneratorOptions(Seed, Users, Rate: 40, ProduceCommand.SeededStart, BeforeRejoin + AfterRejoin))
            .Generate()
            .Select(TransactionGenerator.ToRecord)
            .ToList();

        await using var cluster = new NodeCluster(
            3,
            Topic,
            new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = database },
            ["run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms"],
            FraudProcess.Executable);
        for (var node = 1; node <= 3; node++)
        {
            await cluster.StartAsync(node, CancellationToken.None);
        }

        await Eventually.TrueAsync(() => Alive(cluster) && cluster.Ownership.Settled(cluster.Running, Partitions), Timeout, () => Explain(cluster));
        var victims = cluster.Ownership.HeldBy(Victim);
        Assert.NotEmpty(victims);

        // Kill the victim once it has processed records of its partitions (their committed
        // offsets moved), while the rest of the stream is still to come.
        var producing = TransactionProducer.RunAsync(bootstrap, Topic, stream.Take(BeforeRejoin), Pace, maxSpeed: false, progress: null, CancellationToken.None);
        await Eventually.TrueAsync(() => Alive(cluster) && Committed(bootstrap) is var c && victims.All(p => c[p] > 0), Timeout, () => Explain(cluster));
        int[] survivors = [1, 2];
        var saidBeforeKill = survivors.ToDictionary(s => s, s => cluster.Process(s).StandardError.Count());
        cluster.KillHard(Victim);

        // The two others take its partitions over, each from the checkpoint in its partition
        // journal (not the group's offset), and finish the stream.
        await Eventually.TrueAsync(
            () => Alive(cluster) && victims.All(p => survivors.Any(s => TookUp(cluster, s, p, saidBeforeKill[s]))),
            Timeout,
            () => Explain(cluster));
        foreach (var partition in victims)
        {
            var taker = survivors.Single(s => cluster.Ownership.HeldBy(s).Contains(partition));
            var move = cluster.Ownership.Moves.Last(m => m.Partition == partition);
            Assert.Equal((Victim, taker), (move.From, move.To));
            Assert.NotNull(move.ResumedAt);
            Assert.NotEqual("(group offset)", move.ResumedAt);
        }

        await producing;
        await Eventually.TrueAsync(() => Alive(cluster) && Committed(bootstrap).Values.Sum() == BeforeRejoin, Timeout, () => Explain(cluster));

        // Started again on its address, it joins back and is given partitions.
        await cluster.StartAsync(Victim, CancellationToken.None);
        await Eventually.TrueAsync(
            () => Alive(cluster) && cluster.Ownership.Settled(cluster.Running, Partitions) && cluster.Ownership.HeldBy(Victim).All(p => TookUp(cluster, Victim, p, 0)),
            Timeout,
            () => Explain(cluster));
        var rejoined = cluster.Ownership.HeldBy(Victim);
        Assert.NotEmpty(rejoined);

        // What is produced now, it processes on its partitions: their committed offsets pass where they stood when it joined.
        var atJoin = Committed(bootstrap);
        await TransactionProducer.RunAsync(bootstrap, Topic, stream.Skip(BeforeRejoin), Pace, maxSpeed: true, progress: null, CancellationToken.None);
        await Eventually.TrueAsync(() => Alive(cluster) && Committed(bootstrap).Values.Sum() == BeforeRejoin + AfterRejoin, Timeout, () => Explain(cluster));
        Assert.Equal(rejoined.Order(), cluster.Ownership.HeldBy(Victim).Order());
        var atEnd = Committed(bootstrap);
        Assert.All(rejoined, p => Assert.True(atEnd[p] > atJoin[p], $"partition {p}: committed {atEnd[p]}, {atJoin[p]} when node{Victim} joined back"));

        foreach (var node in cluster.Running)
        {
            var exit = await cluster.InterruptAsync(node, Timeout);
            Assert.True(exit == 0, $"node{node} stopped with exit code {exit}:\n{cluster.Tail(node)}");
        }

        // Every alert once on the topic and in the table, every record counted once in its user's
        // state: all differences together, so that one failure shows the whole picture.
        var parser = new TransactionParser();
        var records = KafkaTestTopics.ReadAll(bootstrap, Topic, Timeout)
            .Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!))
            .ToList();
        Assert.Equal(BeforeRejoin + AfterRejoin, records.Count);
        var expected = AlertReference.SlidingVelocityIds(records);
        Assert.NotEmpty(expected);
        var onTopic = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        var table = await TestPostgres.AlertRowsAsync(database);
        var counts = CountReference.Expected(records.Select(r => r.Item3));
        var state = await JournalReader.ReadUsersAsync("postgres", database, Topic, Partitions, Timeout);
        List<string> differences =
        [
            .. ClusterNodes.AlertDifferences("alerts topic", expected, onTopic),
            .. ClusterNodes.AlertDifferences("alerts table", expected, [.. table.Select(r => r.Id)]),
            .. table.Where(r => !r.Published).Select(r => "alerts table: unpublished " + r.Id),
            .. CountReference.Differences(counts, state).Select(d => "user state: " + d),
        ];
        var where = string.Join(", ", differences.GroupBy(d => d[..d.IndexOf(':', StringComparison.Ordinal)]).Select(g => $"{g.Key} {g.Count()}"));
        Assert.True(differences.Count == 0, $"differences from the reference: {where}; the first ones:\n{string.Join('\n', differences.Take(20))}");
    }

    /// <summary>
    /// Whether <paramref name="node"/> holds <paramref name="partition"/> and its pipeline has
    /// taken it up: its log, after its first <paramref name="skip"/> lines, shows the partition
    /// in a <c>Partitions assigned:</c> line.
    /// </summary>
    private static bool TookUp(NodeCluster cluster, int node, int partition, int skip) =>
        cluster.Ownership.HeldBy(node).Contains(partition)
        && cluster.Process(node).StandardError.Skip(skip).Any(l => l.Contains("Partitions assigned: ", StringComparison.Ordinal) && l.Contains($"{Topic} [[{partition}]]", StringComparison.Ordinal));

    /// <summary>True while no node ended by itself; one that did fails the test with its log.</summary>
    private static bool Alive(NodeCluster cluster) => cluster.Failure() is { } failure ? throw new InvalidOperationException(failure) : true;

    private static Dictionary<int, long> Committed(string bootstrap) =>
        KafkaTestTopics.CommittedOffsets(bootstrap, Group, Topic, Partitions, TimeSpan.FromSeconds(10)).ToDictionary(c => c.Key, c => Math.Max(0, c.Value));

    /// <summary>Who holds what and what each running node said last, for a failure message.</summary>
    private static string Explain(NodeCluster cluster) =>
        $"partitions held: {cluster.Ownership.Describe(cluster.Running, Partitions)}\n"
        + string.Join('\n', cluster.Running.Select(n => $"node{n}:\n{cluster.Tail(n, 15)}"));
}
