using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>Issue 18: without seed nodes, the nodes of a job on one PostgreSQL store find each other through it.</summary>
public sealed partial class ClusterJoinTests
{
    [Fact]
    public async Task Two_nodes_started_together_without_seed_nodes_on_one_PostgreSQL_store_form_one_cluster_and_publish_every_alert_once()
    {
        const int partitions = 4;
        const int count = 3000;
        const string group = "discovery-test";
        var database = await TestPostgres.CreateDatabaseAsync("discovery");
        await using var broker = FraudProcess.Start("broker", "--partitions", $"{partitions}");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var environment = new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = group, ["FRAUD_CONNECTION"] = database };
        string[] run = ["run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms", "--http", "127.0.0.1:0"];

        // Started at the same moment, neither told of the other.
        await using var first = FraudProcess.Start(environment, run);
        await using var second = FraudProcess.Start(environment, run);
        var apis = new[] { await ClusterNodes.HttpAddressAsync(first, Timeout), await ClusterNodes.HttpAddressAsync(second, Timeout) };
        using var http = new HttpClient();
        var seen = new List<List<string>>();
        foreach (var api in apis)
        {
            seen.Add(await Eventually.ValueAsync(() => ClusterNodes.MembersAsync(http, api), members => members.Count == 2 || first.HasExited || second.HasExited, Timeout));
        }

        Assert.False(first.HasExited || second.HasExited, first.StandardErrorTail() + "\n" + second.StandardErrorTail());
        Assert.Equal(seen[0].Order(), seen[1].Order());
        Assert.Single(new[] { first, second }, n => n.StandardError.Contains("this node forms the job's cluster", StringComparison.Ordinal));

        await ProduceAndAwaitCommittedAsync(bootstrap, group, partitions, count, seed: 5, () => first.StandardErrorTail(15) + "\n---\n" + second.StandardErrorTail(15));
        foreach (var node in new[] { second, first })
        {
            node.Interrupt();
            Assert.Equal(0, await node.WaitForExitAsync(Timeout));
        }

        // One cluster, one outbox publisher: every alert on the topic once.
        AssertEveryAlertOnTheTopicOnce(bootstrap);
    }

    /// <summary>Produces <paramref name="count"/> of the lab's records and waits until the group's committed offsets cover them.</summary>
    private static async Task ProduceAndAwaitCommittedAsync(string bootstrap, string group, int partitions, int count, int seed, Func<string> explain)
    {
        var stream = new TransactionGenerator(new GeneratorOptions(seed, Users: 2000, Rate: 40, ProduceCommand.SeededStart, count))
            .Generate()
            .Select(TransactionGenerator.ToRecord)
            .ToList();
        await TransactionProducer.RunAsync(bootstrap, "transactions", stream, 1000, maxSpeed: true, progress: null, CancellationToken.None);
        await Eventually.TrueAsync(
            () => KafkaTestTopics.CommittedOffsets(bootstrap, group, "transactions", partitions, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o)) == count,
            Timeout,
            explain);
    }

    /// <summary>The alerts topic holds each alert of the reference for the transactions topic once, and nothing else.</summary>
    private static void AssertEveryAlertOnTheTopicOnce(string bootstrap)
    {
        var parser = new TransactionParser();
        var records = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout)
            .Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!))
            .ToList();
        var expected = AlertReference.SlidingVelocityIds(records);
        Assert.NotEmpty(expected);
        var onTopic = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        var differences = ClusterNodes.AlertDifferences("alerts topic", expected, onTopic).ToList();
        Assert.True(differences.Count == 0, $"{differences.Count} differences from the reference; the first ones:\n{string.Join('\n', differences.Take(10))}");
    }
}
