using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;

namespace FraudActors.Testkit;

/// <summary>Small Kafka chores for tests against the dev broker: produce, read a topic to its end, read committed offsets.</summary>
public static class KafkaTestTopics
{
    /// <summary>Produces in order and returns where each record landed.</summary>
    public static async Task<List<TopicPartitionOffset>> ProduceAsync(string bootstrap, string topic, IEnumerable<(string? Key, string Value)> records)
    {
        var positions = new List<TopicPartitionOffset>();
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
        }).Build();
        foreach (var (key, value) in records)
        {
            var delivered = await producer.ProduceAsync(topic, new Message<byte[]?, byte[]>
            {
                Key = key is null ? null : Encoding.UTF8.GetBytes(key),
                Value = Encoding.UTF8.GetBytes(value),
            });
            positions.Add(delivered.TopicPartitionOffset);
        }

        return positions;
    }

    /// <summary>Produces one record whose value may be null (a tombstone, as on a compacted topic); returns where it landed.</summary>
    public static async Task<TopicPartitionOffset> ProduceRecordAsync(string bootstrap, string topic, string key, string? value)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All }).Build();
        var delivered = await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes(key),
            Value = value is null ? null : Encoding.UTF8.GetBytes(value),
        });
        return delivered.TopicPartitionOffset;
    }

    /// <summary>Produces each record to the partition it names, in order (tests that need one partition's exact stream).</summary>
    public static async Task ProduceToAsync(string bootstrap, string topic, IEnumerable<(int Partition, string Key, string Value)> records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
        }).Build();
        foreach (var (partition, key, value) in records)
        {
            await producer.ProduceAsync(new TopicPartition(topic, new Partition(partition)), new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(key),
                Value = Encoding.UTF8.GetBytes(value),
            });
        }
    }

    public static List<ConsumeResult<byte[]?, byte[]>> ReadAll(string bootstrap, string topic, TimeSpan timeout) =>
        TopicReader.ReadAll(bootstrap, topic, timeout);

    public static Dictionary<int, long> CommittedOffsets(string bootstrap, string group, string topic, int partitions, TimeSpan timeout) =>
        TopicReader.CommittedOffsets(bootstrap, group, topic, partitions, timeout);

    public static string Header(this ConsumeResult<byte[]?, byte[]> record, string name) =>
        record.Message.Headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : throw new KeyNotFoundException($"header {name}");

    public static DevBroker StartBroker(params (string Topic, int Partitions)[] topics)
    {
        var broker = DevBroker.Start();
        foreach (var (topic, partitions) in topics)
        {
            broker.CreateTopic(topic, partitions);
        }

        return broker;
    }
}
