using System.Globalization;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Pipeline;

/// <summary>
/// The integration test: dev broker, <c>fraud produce --seed</c> and <c>fraud run</c>
/// as real processes; the alerts on the topic are exactly what the rule gives for that stream.
/// </summary>
public sealed class PipelineProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Seeded_stream_gives_alerts_only_for_u901_and_u902_exactly_as_the_rule_computes()
    {
        const int seed = 42;
        const int count = 4000;
        const int users = 2000;
        const double rate = 40;
        var bootstrapFile = Path.GetTempFileName();
        await using var broker = FraudProcess.Start("broker", "--bootstrap-file", bootstrapFile);
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        Assert.Equal(bootstrap, (await File.ReadAllTextAsync(bootstrapFile)).Trim());

        var (produced, producer) = await FraudProcess.RunAsync(
            Timeout, "produce", "--bootstrap", bootstrap, "--seed", $"{seed}", "--count", $"{count}", "--users", $"{users}", "--rate", $"{rate}", "--max-speed");
        Assert.True(produced == 0, producer.StandardError);

        const string group = "e2e-fraud";
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = group },
            "run", "--bootstrap", bootstrap, "--store", "memory", "--checkpoint-interval", "500ms");

        // Done when the group has committed every offset: a record's offset is committed only
        // after its alerts were delivered, so then every alert is on the topic.
        var transactions = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout);
        Assert.Equal(count, transactions.Count);
        await Eventually.TrueAsync(
            () => AllCommitted(bootstrap, group, transactions),
            Timeout,
            () => $"offsets not all committed.\nservice stderr:\n{service.StandardError}");

        var alerts = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout)
            .Select(r => AlertJson.Deserialize(r.Message.Value))
            .ToList();
        var expected = ReferenceCounts(new TransactionGenerator(new GeneratorOptions(seed, users, rate, ProduceCommand.SeededStart, count)).Generate());

        Assert.NotEmpty(expected);
        Assert.All(alerts, a => Assert.Contains(a.UserId, new[] { "u901", "u902" }));
        Assert.Equal(expected.Count, alerts.Count);
        Assert.Equal(alerts.Count, alerts.Select(a => a.AlertId).Distinct().Count());
        Assert.Equal(
            expected.OrderBy(e => e.Key, StringComparer.Ordinal),
            alerts.Select(a => KeyValuePair.Create(a.TxId!, a.Count)).OrderBy(e => e.Key, StringComparer.Ordinal));

        // The alert ids name the records that triggered them.
        var byPosition = transactions.ToDictionary(t => (t.Partition.Value, t.Offset.Value));
        foreach (var alert in alerts)
        {
            var source = byPosition[(alert.Partition, alert.Offset)];
            Assert.Equal($"sliding-velocity:{alert.Partition}:{alert.Offset}", alert.AlertId);
            Assert.Equal(alert.UserId, System.Text.Encoding.UTF8.GetString(source.Message.Key!));
        }

        // The console shows the lecture's line for each alert (the child's output reaches the test
        // asynchronously, so it is waited for, not sampled).
        int AlertLines() => service.StandardOutput.Count(l => l.StartsWith("ALERT user=u90", StringComparison.Ordinal));
        await Eventually.TrueAsync(
            () => AlertLines() >= alerts.Count,
            Timeout,
            () => $"{AlertLines()} ALERT lines for {alerts.Count} alerts; stdout has {service.StandardOutput.Count} lines.\nservice stderr:\n{service.StandardErrorTail()}");
        Assert.Equal(alerts.Count, AlertLines());

        // Downstream teams read the same alerts with `fraud alerts`.
        var (readCode, reader) = await FraudProcess.RunAsync(Timeout, "alerts", "--bootstrap", bootstrap, "--from-beginning", "--limit", $"{alerts.Count}");
        Assert.Equal(0, readCode);
        Assert.Equal(
            alerts.Select(a => a.ToConsoleLine()).Order(StringComparer.Ordinal),
            reader.StandardOutput.Order(StringComparer.Ordinal));
        var (jsonCode, json) = await FraudProcess.RunAsync(Timeout, "alerts", "--bootstrap", bootstrap, "--from-beginning", "--json", "--limit", "1");
        Assert.Equal(0, jsonCode);
        Assert.Contains(AlertJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(Assert.Single(json.StandardOutput))).AlertId, alerts.Select(a => a.AlertId));

        service.Interrupt();
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));
        broker.Interrupt();
        Assert.Equal(0, await broker.WaitForExitAsync(Timeout));
    }

    /// <summary>
    /// The rule computed independently, by brute force over the whole stream: for each
    /// transaction, the user's transactions with t - 60 s &lt;= t' &lt;= t; more than 5 alerts.
    /// </summary>
    private static Dictionary<string, int> ReferenceCounts(IEnumerable<Transaction> stream)
    {
        var seen = new Dictionary<string, List<DateTimeOffset>>();
        var alerts = new Dictionary<string, int>();
        foreach (var tx in stream)
        {
            var times = seen.TryGetValue(tx.UserId, out var list) ? list : seen[tx.UserId] = [];
            times.Add(tx.Timestamp);
            var count = times.Count(t => t >= tx.Timestamp.AddSeconds(-60) && t <= tx.Timestamp);
            if (count > 5)
            {
                alerts[tx.TxId!] = count;
            }
        }

        return alerts;
    }

    private static bool AllCommitted(string bootstrap, string group, List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]>> transactions)
    {
        var committed = KafkaTestTopics.CommittedOffsets(bootstrap, group, "transactions", 3, TimeSpan.FromSeconds(10));
        return transactions.GroupBy(t => t.Partition.Value)
            .All(p => committed[p.Key] == p.Max(t => t.Offset.Value) + 1);
    }
}
