using Confluent.Kafka;

namespace FraudActors.Actors.Kafka;

/// <summary>Reads a whole topic, or a consumer group's committed offsets: what drills and tests check against.</summary>
public static class TopicReader
{
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
            GroupId = "fraud-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        var total = partitions.Sum(p => consumer.QueryWatermarkOffsets(p, timeout).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var records = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (records.Count < total)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"read {records.Count} of {total} records of {topic}");
            }

            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                records.Add(result);
            }
        }

        return records;
    }

    /// <summary>The group's committed offset per partition (negative where it has none).</summary>
    public static Dictionary<int, long> CommittedOffsets(string bootstrap, string group, string topic, int partitions, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group }).Build();
        return consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, new Partition(p))), timeout)
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }
}
