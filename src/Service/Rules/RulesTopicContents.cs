using System.Text;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Rules;
using FraudActors.Messages.Rules;

namespace FraudActors.Service.Rules;

/// <summary>A record of the rules topic that changes nothing, and why (<see cref="Field"/> names the part at fault, as <see cref="Reason"/> does).</summary>
public sealed record RefusedRuleRecord(int Partition, long Offset, string? Key, string Field, string Reason);

/// <summary>
/// The rules topic read whole, as a node reads it before its first transaction: the configured
/// rules with every valid record's settings over them, in offset order, and the records refused
/// (docs/design.md, "Dynamic rules"). For <c>fraud rules list --bootstrap</c>.
/// </summary>
public sealed record RulesTopicContents(RuleSet Desired, int Records, IReadOnlyList<RefusedRuleRecord> Refused)
{
    /// <summary>Reads every record of <paramref name="topic"/> up to its end as it is now.</summary>
    public static RulesTopicContents Read(string bootstrap, string topic, RuleSet configured, TimeSpan timeout) =>
        Of(
            TopicReader.ReadAll(bootstrap, topic, timeout).Select(r => new RuleRecordAt(
                r.Partition.Value,
                r.Offset.Value,
                r.Message.Key is { } key ? Encoding.UTF8.GetString(key) : null,
                r.Message.Value)),
            configured);

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

/// <summary>One record of the rules topic: where it is, its key and its value (null: a tombstone).</summary>
public sealed record RuleRecordAt(int Partition, long Offset, string? Key, byte[]? Value);
