using System.Globalization;
using System.Text;
using FraudActors.Engine.Ingest;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Pipeline;

/// <summary>
/// Issue 8's hostile input: a valid stream with 10 % malformed and abusive records mixed in by
/// <c>fraud produce --hostile-share 0.1</c>, read by a real <c>fraud run</c>. Every bad record
/// reaches the dead-letter topic once with the reason it deserves, the valid ones (and the odd
/// but valid hostile kinds) give exactly the reference alerts, and the service never restarts
/// its stream.
/// </summary>
public sealed class HostileInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Ten_percent_hostile_records_all_reach_the_dlq_with_their_reason_and_the_valid_ones_give_exactly_the_reference_alerts()
    {
        await using var broker = FraudProcess.Start("broker");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];

        // Seed 12: its mix holds every kind at least twice (the assertion below checks every kind is there).
        var (produced, producer) = await FraudProcess.RunAsync(
            Timeout, "produce", "--bootstrap", bootstrap, "--seed", "12", "--count", "3000", "--users", "2000", "--rate", "40", "--max-speed", "--hostile-share", "0.1");
        Assert.True(produced == 0, producer.StandardError);

        const string group = "hostile-fraud";
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = group },
            "run", "--bootstrap", bootstrap, "--store", "memory", "--checkpoint-interval", "500ms");

        var transactions = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout);
        await Eventually.TrueAsync(
            () => KafkaTestTopics.CommittedOffsets(bootstrap, group, "transactions", 3, TimeSpan.FromSeconds(10)) is var committed
                   && transactions.GroupBy(t => t.Partition.Value).All(p => committed[p.Key] == p.Max(t => t.Offset.Value) + 1),
            Timeout,
            () => $"offsets not all committed.\nservice stderr:\n{service.StandardErrorTail()}");

        var hostile = transactions.Where(t => t.Message.Headers?.TryGetLastBytes(HostileRecords.KindHeader, out _) == true)
            .ToDictionary(t => (t.Partition.Value, t.Offset.Value));
        var valid = transactions.Where(t => !hostile.ContainsKey((t.Partition.Value, t.Offset.Value))).ToList();
        Assert.InRange(hostile.Count / (double)transactions.Count, 0.07, 0.13);
        Assert.Equal(3000, valid.Count);
        Assert.Equal(HostileRecords.Kinds.Select(k => k.Kind).Order(), hostile.Values.Select(h => h.Header(HostileRecords.KindHeader)).Distinct().Order());

        // The few odd but valid kinds (a negative Kafka timestamp, an amount at the bound) are
        // accepted: they count for their user like any record, so the reference sees them too.
        var accepted = hostile.Values.Where(h => h.Header(HostileRecords.ExpectedReasonHeader) == HostileRecords.Accepted).ToList();
        var rejected = hostile.Where(h => h.Value.Header(HostileRecords.ExpectedReasonHeader) != HostileRecords.Accepted).ToDictionary();
        Assert.NotEmpty(accepted);

        // Every rejected hostile record once on the DLQ, with the reason it was made for; nothing else there.
        var dlq = KafkaTestTopics.ReadAll(bootstrap, "transactions.dlq", Timeout);
        var dead = dlq.Select(d => (Partition: int.Parse(d.Header(DeadLetterPublisher.PartitionHeader), CultureInfo.InvariantCulture), Offset: long.Parse(d.Header(DeadLetterPublisher.OffsetHeader), CultureInfo.InvariantCulture), Record: d)).ToList();
        Assert.Equal(dead.Count, dead.Select(d => (d.Partition, d.Offset)).Distinct().Count());
        Assert.Equal(rejected.Keys.Order(), dead.Select(d => (d.Partition, d.Offset)).Order());
        foreach (var (partition, offset, record) in dead)
        {
            var source = hostile[(partition, offset)];
            var kind = source.Header(HostileRecords.KindHeader);
            Assert.True(
                source.Header(HostileRecords.ExpectedReasonHeader) == record.Header(DeadLetterPublisher.ReasonHeader),
                $"{kind} at {partition}:{offset}: expected {source.Header(HostileRecords.ExpectedReasonHeader)}, got {record.Header(DeadLetterPublisher.ReasonHeader)} ({record.Header(DeadLetterPublisher.ErrorHeader)})");
            Assert.False(string.IsNullOrWhiteSpace(record.Header(DeadLetterPublisher.ErrorHeader)));
        }

        // The DLQ keeps the original bytes (cut at its limit, the original size said).
        var large = dead.Where(d => hostile[(d.Partition, d.Offset)].Header(HostileRecords.KindHeader) == "one-megabyte").ToList();
        Assert.All(large, d => Assert.Equal(DeadLetterPublisher.MaxForwardedBytes, d.Record.Message.Value.Length));
        Assert.All(dead.Where(d => hostile[(d.Partition, d.Offset)].Header(HostileRecords.KindHeader) is "truncated-json" or "not-json"), d =>
            Assert.Equal(hostile[(d.Partition, d.Offset)].Message.Value, d.Record.Message.Value));
        var largeKeys = dead.Where(d => hostile[(d.Partition, d.Offset)].Header(HostileRecords.KindHeader) == "key-over-limit").ToList();
        Assert.NotEmpty(largeKeys);
        Assert.All(largeKeys, d =>
        {
            var original = hostile[(d.Partition, d.Offset)].Message.Key!;
            Assert.Equal(original[..DeadLetterPublisher.MaxForwardedKeyBytes], d.Record.Message.Key);
            Assert.Equal(original.Length.ToString(CultureInfo.InvariantCulture), d.Record.Header(DeadLetterPublisher.OriginalKeySizeHeader));
        });

        // The valid records and the accepted hostile ones give exactly the reference alerts, each once.
        var parser = new TransactionParser();
        var reference = AlertReference.SlidingVelocityIds(valid.Concat(accepted).Select(t =>
            (t.Partition.Value, t.Offset.Value, parser.Parse(t.Message.Key, t.Message.Key is not null, t.Message.Value).Transaction!)));
        var alerts = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        Assert.NotEmpty(reference);
        Assert.Equal(alerts.Count, alerts.Distinct().Count());
        Assert.Equal(reference.Order(StringComparer.Ordinal), alerts.Order(StringComparer.Ordinal));

        // The stream never failed and restarted: TransactionIngest logs "Ingest stream failed: …" when it does.
        Assert.DoesNotContain("Ingest stream failed", service.StandardError, StringComparison.Ordinal);
        service.Interrupt();
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));
        broker.Interrupt();
        Assert.Equal(0, await broker.WaitForExitAsync(Timeout));
    }
}
