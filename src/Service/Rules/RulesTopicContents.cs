using Confluent.Kafka;
using FraudActors.Engine.Rules;
using FraudActors.Messages.Rules;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Rules;

/// <summary>A record of the rules topic that changes nothing, and why (<see cref="Field"/> names the part at fault, as <see cref="Reason"/> does).</summary>
public sealed record RefusedRuleRecord(int Partition, long Offset, string? Key, string Field, string Reason);

/// <summary>One record of the rules topic: where it is, its key and its value (null: a tombstone).</summary>
public sealed record RuleRecordAt(int Partition, long Offset, string? Key, byte[]? Value);

/// <summary>
/// The rules topic read whole, as a node reads it before its first transaction: the configured
/// rules with every valid record's settings over them, in offset order, and the records refused
/// (docs/design.md, "Dynamic rules"). For <c>fraud rules list --bootstrap</c>.
/// </summary>
/// <param name="TopicExists">False when there is no such topic: every rule is as configured.</param>
public sealed record RulesTopicContents(RuleSet Desired, int Records, IReadOnlyList<RefusedRuleRecord> Refused, bool TopicExists = true)
{
    /// <summary>
    /// Reads every record of the rules topic up to its end as it is now, with the settings'
    /// consumer properties (security included). The reader is a consumer, which never has a
    /// missing topic created.
    /// </summary>
    public static RulesTopicContents Read(FraudSettings settings, RuleSet configured, TimeSpan timeout)
    {
        var topic = settings.Topics.Rules;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig(KafkaClientConfigs.ConsumerProperties(settings))
        {
            BootstrapServers = settings.Bootstrap,
            GroupId = "fraud-rules-list-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AllowAutoCreateTopics = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is not { Error.IsError: false, Partitions.Count: > 0 })
        {
            return Of([], configured) with { TopicExists = false };
        }

        var partitions = metadata.Partitions.Select(p => new TopicPartition(topic, new Partition(p.PartitionId))).ToList();
        var high = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, timeout).High.Value);
        var open = high.Where(h => h.Value > 0).Select(h => h.Key).ToHashSet();
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var records = new List<RuleRecordAt>();
        var deadline = DateTime.UtcNow + timeout;
        while (open.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the rules topic '{topic}' was not read to its end within {timeout.TotalSeconds:0} s ({records.Count} records read)");
            }

            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
            {
                continue;
            }

            // The end is where the high watermark stood at start: transaction markers take offsets too.
            if (!result.IsPartitionEOF)
            {
                var key = result.Message.Key is { } k ? System.Text.Encoding.UTF8.GetString(k) : null;
                records.Add(new RuleRecordAt(result.Partition.Value, result.Offset.Value, key, result.Message.Value));
            }

            if (result.Offset.Value >= high[result.Partition.Value] - (result.IsPartitionEOF ? 0 : 1))
            {
                open.Remove(result.Partition.Value);
            }
        }

        return Of(records, configured);
    }

    /// <summary>The rules <paramref name="records"/>, in their order, give over <paramref name="configured"/>.</summary>
    public static RulesTopicContents Of(IEnumerable<RuleRecordAt> records, RuleSet configured)
    {
        // The same board and checks a node uses, so what this prints is what a node would apply.
        var board = new RulesBoard(configured);
        var refused = new List<RefusedRuleRecord>();
        var count = 0;
        foreach (var record in records)
        {
            count++;
            try
            {
                board.Set(RuleRecord.Parse(record.Key, record.Value, record.Offset + 1, configured));
            }
            catch (RuleRecordException e)
            {
                refused.Add(new RefusedRuleRecord(record.Partition, record.Offset, record.Key, e.Key, RuleRefusal.Describe(e)));
            }
        }

        return new RulesTopicContents(board.Desired, count, refused);
    }
}
