using System.Text;
using Confluent.Kafka;
using FraudActors.Actors.Kafka;

namespace FraudActors.Testing;

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

    /// <summary>Every record of the topic, from the start to the high watermarks as they are now.</summary>
    public static List<ConsumeResult<byte[]?, byte[]>> ReadAll(string bootstrap, string topic, TimeSpan timeout)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var partitions = admin.GetMetadata(topic, timeout).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, new Partition(p.PartitionId)))
            .ToList();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, timeout).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var records = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (records.Count < ends.Values.Sum())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"read {records.Count} of {ends.Values.Sum()} records of {topic}");
            }

            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                records.Add(result);
            }
        }

        return records;
    }

    public static Dictionary<int, long> CommittedOffsets(string bootstrap, string group, string topic, int partitions, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group }).Build();
        return consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, new Partition(p))), timeout)
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }

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
