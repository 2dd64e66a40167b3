using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <summary>Reads a whole topic, or a consumer group's committed offsets: what drills and tests check against.</summary>
public static class TopicReader
{
    /// <summary>
    /// Every record of the topic, from the start to the high watermarks as they are now. A
    /// partition is read until its end is reported at or past its high watermark, not until as
    /// many records as offsets came: transaction markers take offsets too (an outbox with a
    /// transactional id), and aborted records are not returned.
    /// </summary>
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
            EnablePartitionEof = true,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        var high = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, timeout).High.Value);
        var open = high.Keys.ToHashSet();
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var records = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (open.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"read {records.Count} records of {topic}; partitions {string.Join(", ", open.Order())} not read to their high watermarks ({string.Join(", ", open.Order().Select(p => high[p]))})");
            }

            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                if (result.Offset.Value >= high[result.Partition.Value])
                {
                    open.Remove(result.Partition.Value);
                }

                continue;
            }

            records.Add(result);
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
