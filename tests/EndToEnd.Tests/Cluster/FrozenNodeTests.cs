using FraudActors.Engine.Checkpoints;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>
/// Issue 18: a zombie. Three nodes on PostgreSQL; the oldest (which runs the cluster's outbox
/// publisher) is frozen with SIGSTOP while the stream flows, long enough for the others to down
/// it and take its partitions and the outbox over; then it is thawed with SIGCONT. It must not
/// write anything more: it exits 1 (downed, or its publisher fenced), and every alert is on the
/// topic and in the table once, every user's count as the input dictates.
/// </summary>
public sealed class FrozenNodeTests
{
    private const int Partitions = 6;
    private const int Count = 6000;
    private const string Group = "frozen-node-test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_node_frozen_past_its_downing_is_fenced_when_thawed_and_nothing_is_duplicated()
    {
        var database = await TestPostgres.CreateDatabaseAsync("frozen");
        await using var broker = FraudProcess.Start("broker", "--partitions", $"{Partitions}");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var environment = new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = database };
        int[] ports = [ClusterNodes.FreePort(), ClusterNodes.FreePort(), ClusterNodes.FreePort()];
        var seeds = $"127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}";
        FraudProcess Start(int port) => FraudProcess.Start(
            environment,
            "run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms", "--http", "127.0.0.1:0", "--node-port", $"{port}", "--seed-nodes", seeds);

        // The first node is the oldest: the outbox publisher runs there.
        await using var zombie = Start(ports[0]);
        await Eventually.TrueAsync(() => zombie.StandardError.Contains("took epoch 1 of", StringComparison.Ordinal) || zombie.HasExited, Timeout, () => zombie.StandardErrorTail());
        await using var second = Start(ports[1]);
        await using var third = Start(ports[2]);
        using var http = new HttpClient();
        foreach (var node in new[] { zombie, second, third })
        {
            var api = await ClusterNodes.HttpAddressAsync(node, Timeout);
            await Eventually.ValueAsync(() => ClusterNodes.MembersAsync(http, api), members => members.Count == 3, Timeout);
        }

        var stream = new TransactionGenerator(new GeneratorOptions(Seed: 13, Users: 2000, Rate: 40, ProduceCommand.SeededStart, Count))
            .Generate()
            .Select(TransactionGenerator.ToRecord)
            .ToList();
        await TransactionProducer.RunAsync(bootstrap, "transactions", stream.Take(Count / 2), 1000, maxSpeed: true, progress: null, CancellationToken.None);
        await Eventually.TrueAsync(() => Committed(bootstrap) == Count / 2, Timeout, () => zombie.StandardErrorTail(10));

        // Frozen: the others down it and one of them takes the outbox's next epoch.
        zombie.Freeze();
        await Eventually.TrueAsync(
            () => second.StandardError.Contains("took epoch 2 of", StringComparison.Ordinal) || third.StandardError.Contains("took epoch 2 of", StringComparison.Ordinal),
            Timeout,
            () => second.StandardErrorTail(10) + "\n---\n" + third.StandardErrorTail(10));
        await TransactionProducer.RunAsync(bootstrap, "transactions", stream.Skip(Count / 2), 1000, maxSpeed: true, progress: null, CancellationToken.None);
        await Eventually.TrueAsync(() => Committed(bootstrap) == Count, Timeout, () => second.StandardErrorTail(10) + "\n---\n" + third.StandardErrorTail(10));

        // Thawed, it learns it is out and stops without writing: exit 1.
        zombie.Thaw();
        var code = await zombie.WaitForExitAsync(Timeout);
        Assert.True(code == ExitCodes.Failure, $"exit {code}\n{zombie.StandardErrorTail()}");
        Assert.True(
            zombie.StandardError.Contains("fraud: fenced:", StringComparison.Ordinal) || zombie.StandardError.Contains("removed from the cluster", StringComparison.Ordinal),
            zombie.StandardErrorTail());
        foreach (var node in new[] { second, third })
        {
            node.Interrupt();
            Assert.True(await node.WaitForExitAsync(Timeout) == 0, node.StandardErrorTail());
        }

        // Nothing twice: the topic, the table, the users' counts.
        var parser = new TransactionParser();
        var records = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout)
            .Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!))
            .ToList();
        var expected = AlertReference.SlidingVelocityIds(records);
        Assert.NotEmpty(expected);
        var onTopic = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        var table = await TestPostgres.AlertRowsAsync(database);
        var state = await JournalReader.ReadUsersAsync("postgres", database, "transactions", Partitions, Timeout);
        List<string> differences =
        [
            .. ClusterNodes.AlertDifferences("alerts topic", expected, onTopic),
            .. ClusterNodes.AlertDifferences("alerts table", expected, [.. table.Select(r => r.Id)]),
            .. table.Where(r => !r.Published).Select(r => "alerts table: unpublished " + r.Id),
            .. CountReference.Differences(CountReference.Expected(records.Select(r => r.Item3)), state).Select(d => "user state: " + d),
        ];
        Assert.True(differences.Count == 0, $"{differences.Count} differences from the reference; the first ones:\n{string.Join('\n', differences.Take(20))}");
    }

    private static long Committed(string bootstrap) =>
        KafkaTestTopics.CommittedOffsets(bootstrap, Group, "transactions", Partitions, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o));
}
