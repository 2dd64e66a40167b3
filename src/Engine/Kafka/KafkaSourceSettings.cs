using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <param name="Consumer">
/// Client settings. The source owns offset storing: it sets <c>enable.auto.offset.store=false</c>
/// so only offsets handed to <see cref="IKafkaSourceControl.StoreOffsets"/> are ever committed.
/// </param>
/// <param name="PollInterval">How long to wait before polling again when no record was ready.</param>
/// <param name="DrainTimeout">How long a stop waits for records in flight to be handled.</param>
/// <param name="StartOffset">
/// Where an assigned partition starts (the next offset to read), when the service knows better
/// than the consumer group: its partition journal's last commit (null: the group's offset). It
/// may take a while (a journal recovers, shards move): the source assigns the partitions once
/// every one of them knows where it starts, outside the group's callback, so the consumer keeps
/// its group membership meanwhile. Null: the group's offsets, at once.
/// </param>
/// <param name="Revoking">
/// Called when the group takes partitions away, before they go: each revoked partition with the
/// offset after the last record the source emitted of it (<see cref="Offset.Unset"/>: none). It
/// completes once those records are checkpointed, with the offsets to commit; the source waits
/// for it (at most <see cref="RevokeTimeout"/>) and only then lets the partitions go, so their
/// next owner resumes from that checkpoint. Not called for lost partitions or when the source stops.
/// </param>
public sealed record KafkaSourceSettings(
    ConsumerConfig Consumer,
    IReadOnlyList<string> Topics,
    TimeSpan PollInterval,
    TimeSpan DrainTimeout,
    Func<TopicPartition, Task<long?>>? StartOffset = null,
    Func<IReadOnlyList<TopicPartitionOffset>, Task<IReadOnlyList<TopicPartitionOffset>>>? Revoking = null)
{
    /// <summary>How long a revocation waits for <see cref="Revoking"/>; the whole group's rebalance waits as long.</summary>
    public TimeSpan RevokeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The group membership to read through, kept by the caller across runs so that a new run
    /// rewinds in place (null: the stage joins the group itself and leaves it when it stops).
    /// </summary>
    public KafkaGroupMember? Member { get; init; }

    public static KafkaSourceSettings Create(ConsumerConfig consumer, params string[] topics) =>
        new(consumer, topics, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(30));
}
