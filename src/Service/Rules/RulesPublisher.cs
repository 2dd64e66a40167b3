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
/// Its producer never has the topic created: a broker's automatic creation would make it
/// uncompacted, and the rules would be lost to retention; a missing topic is an error instead.
/// </summary>
public sealed class RulesPublisher(FraudSettings settings) : IDisposable
{
    /// <summary>How long a topic the broker does not know may take to appear before a record for it fails.</summary>
    private const int UnknownTopicMs = 10_000;

    private readonly Lazy<IProducer<byte[]?, byte[]>> _producer = new(() => Build(settings));

    public string Topic => settings.Topics.Rules;

    /// <summary>Publishes <paramref name="value"/> (null: a tombstone) for rule <paramref name="rule"/> and returns where it landed.</summary>
    /// <exception cref="RulesTopicMissingException">The topic does not exist.</exception>
    /// <exception cref="ProduceException{TKey, TValue}">The broker did not take the record.</exception>
    public async Task<RulePublished> PublishAsync(string rule, byte[]? value, CancellationToken cancellationToken)
    {
        // A null value is written as Kafka's null, the tombstone compaction keeps until it deletes the key.
        var message = new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(rule), Value = value! };
        try
        {
            var delivered = await _producer.Value.ProduceAsync(Topic, message, cancellationToken).ConfigureAwait(false);
            return new RulePublished(rule, Topic, delivered.Partition.Value, delivered.Offset.Value);
        }
        catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code is ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart)
        {
            throw new RulesTopicMissingException(Topic);
        }
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(10));
            _producer.Value.Dispose();
        }
    }

    /// <summary>The node's producer settings (security included), without automatic topic creation.</summary>
    private static IProducer<byte[]?, byte[]> Build(FraudSettings settings)
    {
        var config = KafkaClientConfigs.NodeProducer(settings);
        config.ClientId = "fraud-rules";
        config.AllowAutoCreateTopics = false;
        config.TopicMetadataPropagationMaxMs = UnknownTopicMs;
        return new ProducerBuilder<byte[]?, byte[]>(config).Build();
    }
}

/// <summary>The rules topic does not exist: it must be created, compacted, before rules can change (README, "Dynamic rules").</summary>
public sealed class RulesTopicMissingException(string topic)
    : Exception($"the rules topic '{topic}' does not exist: create it with one partition and cleanup.policy=compact (README, \"Dynamic rules\")")
{
    public string Topic { get; } = topic;
}
