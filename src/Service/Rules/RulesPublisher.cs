using System.Text;
using Confluent.Kafka;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Rules;

/// <summary>
/// Where a record of the rules topic landed. The rule takes the version <see cref="Offset"/> + 1
/// from it on every node (docs/design.md, "Dynamic rules").
/// </summary>
public sealed record RulePublished(string Rule, string Topic, int Partition, long Offset)
{
    public long Version => Offset + 1;
}

/// <summary>
/// Writes records to the compacted rules topic, keyed by the rule's name: its settings, or a
/// tombstone (null value) that returns the rule to its configured settings. Each call waits
/// until the broker holds the record, so its offset, and with it the rule's version, is known.
/// </summary>
public sealed class RulesPublisher(IProducer<byte[]?, byte[]> producer, string topic)
{
    /// <summary>A producer that publishes on its own (<c>fraud rules set --bootstrap</c>): the node's producer settings, security included.</summary>
    public static IProducer<byte[]?, byte[]> CreateProducer(FraudSettings settings)
    {
        var config = KafkaClientConfigs.NodeProducer(settings);
        config.ClientId = "fraud-rules";
        return new ProducerBuilder<byte[]?, byte[]>(config).Build();
    }

    /// <summary>Publishes <paramref name="value"/> (null: a tombstone) for rule <paramref name="rule"/> and returns where it landed.</summary>
    /// <exception cref="ProduceException{TKey, TValue}">The broker did not take the record.</exception>
    public async Task<RulePublished> PublishAsync(string rule, byte[]? value, CancellationToken cancellationToken)
    {
        // A null value is written as Kafka's null, the tombstone compaction keeps until it deletes the key.
        var message = new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(rule), Value = value! };
        var delivered = await producer.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false);
        return new RulePublished(rule, topic, delivered.Partition.Value, delivered.Offset.Value);
    }
}
