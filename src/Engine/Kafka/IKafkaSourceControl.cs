using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <summary>The handle a running <see cref="KafkaSourceStage"/> materializes to.</summary>
public interface IKafkaSourceControl
{
    /// <summary>
    /// Marks records as fully handled: each entry is the next offset to read of its partition
    /// (last handled + 1). Only stored offsets are committed to the consumer group.
    /// </summary>
    void StoreOffsets(IReadOnlyList<TopicPartitionOffset> nextOffsets);

    /// <summary>
    /// Stops emitting, waits until every record already emitted has been stored (or the drain
    /// timeout passes), commits, leaves the group and completes the stream.
    /// </summary>
    Task DrainAndStopAsync();

    /// <summary>
    /// Stops emitting and closes the consumer at once, without waiting for records in flight:
    /// only offsets already stored (checkpointed) are committed, so a restart reads the rest again.
    /// </summary>
    Task StopNowAsync();

    /// <summary>Completes when the stage has stopped reading, whether by a stop or a failure (and, unless it reads through a caller's <see cref="KafkaSourceSettings.Member"/>, closed its consumer).</summary>
    Task Completion { get; }
}
