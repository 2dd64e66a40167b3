using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <summary>What the Kafka source emits: records, and the partition changes between them, in order.</summary>
public abstract record SourceEvent;

/// <summary>One record as read, bytes untouched so a bad one can go to the DLQ exactly as it came.</summary>
public sealed record KafkaRecord(string Topic, int Partition, long Offset, byte[]? Key, byte[] Value, DateTimeOffset Timestamp) : SourceEvent
{
    public TopicPartition TopicPartition => new(Topic, new Partition(Partition));

    /// <summary>The offset to commit once this record is handled: Kafka commits the next offset to read.</summary>
    public TopicPartitionOffset NextOffset => new(Topic, new Partition(Partition), new Offset(Offset + 1));
}

public sealed record PartitionsAssigned(IReadOnlyList<TopicPartition> Partitions) : SourceEvent;

/// <summary>Partitions taken away; <paramref name="Lost"/> when the group moved on without us (no clean hand-over).</summary>
public sealed record PartitionsRevoked(IReadOnlyList<TopicPartition> Partitions, bool Lost) : SourceEvent;
