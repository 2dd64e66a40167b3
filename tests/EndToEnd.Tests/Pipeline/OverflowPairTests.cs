using System.Globalization;
using FraudActors.Engine.Ingest;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Pipeline;

/// <summary>
/// Issue 16's poison records: three records of one user with amount 5e28 (finite JSON numbers,
/// each within a decimal, their sum not) early in a 20,000-record stream. They go to the DLQ as
/// invalid-amount; every alert of the stream is exactly the reference and the ingest stream
/// never fails (it used to overflow the user's sums, time out and restart in a loop).
/// </summary>
public sealed class OverflowPairTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task Three_records_of_5e28_go_to_the_dlq_as_invalid_amount_and_every_other_alert_is_exactly_the_reference()
    {
        const int seed = 16;
        const int count = 20_000;
        const int users = 1000;
        const double rate = 40;
        var generated = new TransactionGenerator(new GeneratorOptions(seed, users, rate, ProduceCommand.SeededStart, count)).Generate().ToList();
        var victim = generated[0].UserId;

        await using var broker = FraudProcess.Start("broker");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];

        // The poison first, so it sits at the head of its user's partition, then the seeded stream.
        var poison = Path.GetTempFileName();
        await File.WriteAllLinesAsync(poison, Enumerable.Range(0, 3).Select(i =>
            $$"""{"user_id":"{{victim}}","amount":{{HostileRecords.OverflowAmount}},"merchant":"online","ts":"{{TransactionJson.FormatTimestamp(ProduceCommand.SeededStart.AddMilliseconds(i))}}"}"""));
        var (poisoned, poisonProducer) = await FraudProcess.RunAsync(Timeout, "produce", "--bootstrap", bootstrap, "--file", poison, "--max-speed");
        Assert.True(poisoned == 0, poisonProducer.StandardError);
        var (produced, producer) = await FraudProcess.RunAsync(
            Timeout, "produce", "--bootstrap", bootstrap, "--seed", $"{seed}", "--count", $"{count}", "--users", $"{users}", "--rate", $"{rate}", "--max-speed");
        Assert.True(produced == 0, producer.StandardError);

        const string group = "overflow-fraud";
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = group },
            "run", "--bootstrap", bootstrap, "--store", "memory", "--checkpoint-interval", "500ms");

        var transactions = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout);
        Assert.Equal(count + 3, transactions.Count);
        await Eventually.TrueAsync(
            () => KafkaTestTopics.CommittedOffsets(bootstrap, group, "transactions", 3, TimeSpan.FromSeconds(10)) is var committed
                   && transactions.GroupBy(t => t.Partition.Value).All(p => committed[p.Key] == p.Max(t => t.Offset.Value) + 1),
            Timeout,
            () => $"offsets not all committed.\nservice stderr:\n{service.StandardErrorTail()}");

        // The three poison records, and nothing else, on the DLQ as invalid-amount.
        var parser = new TransactionParser();
        var parsed = transactions.Select(t => (t.Partition.Value, t.Offset.Value, Outcome: parser.Parse(t.Message.Key, t.Message.Key is not null, t.Message.Value))).ToList();
        var poisonAt = parsed.Where(p => !p.Outcome.IsValid).Select(p => (p.Item1, p.Item2)).ToList();
        Assert.Equal(3, poisonAt.Count);
        Assert.All(parsed.Where(p => !p.Outcome.IsValid), p => Assert.Equal(RejectReason.InvalidAmount, p.Outcome.Reason));
        var dead = KafkaTestTopics.ReadAll(bootstrap, "transactions.dlq", Timeout);
        Assert.Equal(
            poisonAt.Order(),
            dead.Select(d => (int.Parse(d.Header(DeadLetterPublisher.PartitionHeader), CultureInfo.InvariantCulture), long.Parse(d.Header(DeadLetterPublisher.OffsetHeader), CultureInfo.InvariantCulture))).Order());
        Assert.All(dead, d => Assert.Equal("invalid-amount", d.Header(DeadLetterPublisher.ReasonHeader)));

        // Every user's alerts, the victim's included, exactly the reference of the valid records, each once.
        var reference = AlertReference.SlidingVelocityIds(parsed.Where(p => p.Outcome.IsValid).Select(p => (p.Item1, p.Item2, p.Outcome.Transaction!)));
        var alerts = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        Assert.NotEmpty(reference);
        Assert.Equal(alerts.Count, alerts.Distinct().Count());
        Assert.Equal(reference.Order(StringComparer.Ordinal), alerts.Order(StringComparer.Ordinal));

        // TransactionIngest logs "Ingest stream failed: …" each time the stream fails and restarts.
        Assert.DoesNotContain("Ingest stream failed", service.StandardError, StringComparison.Ordinal);
        service.Interrupt();
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));
        broker.Interrupt();
        Assert.Equal(0, await broker.WaitForExitAsync(Timeout));
    }
}
