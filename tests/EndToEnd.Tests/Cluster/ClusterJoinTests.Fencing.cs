using FraudActors.Service.Cli;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>
/// Issue 18: old processes left running beside new ones. Two nodes of one job on one database,
/// each told to be a cluster of its own (its own address as seed node), both run an outbox
/// publisher; the later one takes the outbox's epoch, the earlier one finds itself replaced,
/// logs <c>fenced:</c> and exits 1, and the job's alerts are on the topic once each.
/// </summary>
public sealed partial class ClusterJoinTests
{
    [Fact]
    public async Task Of_two_clusters_of_one_job_the_replaced_outbox_publisher_is_fenced_its_node_exits_1_and_every_alert_is_published_once()
    {
        const int partitions = 4;
        const int count = 3000;
        const string group = "fencing-test";
        var database = await TestPostgres.CreateDatabaseAsync("fencing");
        await using var broker = FraudProcess.Start("broker", "--partitions", $"{partitions}");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var environment = new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = group, ["FRAUD_CONNECTION"] = database };
        string[] Run(int port) => ["run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms", "--http", "127.0.0.1:0", "--node-port", $"{port}", "--seed-nodes", $"127.0.0.1:{port}"];

        var firstPort = ClusterNodes.FreePort();
        await using var first = FraudProcess.Start(environment, Run(firstPort));
        await Eventually.TrueAsync(() => first.StandardError.Contains("took epoch 1 of", StringComparison.Ordinal) || first.HasExited, Timeout, () => first.StandardErrorTail());
        Assert.False(first.HasExited, first.StandardErrorTail());

        // A second cluster of the same job: its publisher takes the next epoch.
        var secondPort = ClusterNodes.FreePort();
        await using var second = FraudProcess.Start(environment, Run(secondPort));
        await Eventually.TrueAsync(() => second.StandardError.Contains("took epoch 2 of", StringComparison.Ordinal) || second.HasExited, Timeout, () => second.StandardErrorTail());

        var code = await first.WaitForExitAsync(Timeout);
        Assert.True(code == ExitCodes.Failure, $"exit {code}\n{first.StandardErrorTail()}");
        Assert.True(
            first.StandardError.Contains("fenced: Alert outbox:", StringComparison.Ordinal) || first.StandardError.Contains("fenced: Window outbox:", StringComparison.Ordinal),
            first.StandardErrorTail());
        Assert.Contains("fraud: fenced:", first.StandardError, StringComparison.Ordinal);
        Assert.False(second.HasExited, second.StandardErrorTail());

        // The job goes on in the second cluster: every record applied, every alert once.
        await ProduceAndAwaitCommittedAsync(bootstrap, group, partitions, count, seed: 9, () => second.StandardErrorTail(15));
        second.Interrupt();
        Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        AssertEveryAlertOnTheTopicOnce(bootstrap);
    }
}
