using Confluent.Kafka;

namespace FraudActors.Actors.Kafka;

/// <param name="Consumer">
/// Client settings. The source owns offset storing: it sets <c>enable.auto.offset.store=false</c>
/// so only offsets handed to <see cref="IKafkaSourceControl.StoreOffsets"/> are ever committed.
/// </param>
/// <param name="PollInterval">How long to wait before polling again when no record was ready.</param>
/// <param name="DrainTimeout">How long a stop waits for records in flight to be handled.</param>
/// <param name="StartOffset">
/// Where an assigned partition starts (the next offset to read), when the service knows better
/// than the consumer group: its partition journal's last commit. Null: the group's offset.
/// </param>
public sealed record KafkaSourceSettings(
    ConsumerConfig Consumer,
    IReadOnlyList<string> Topics,
    TimeSpan PollInterval,
    TimeSpan DrainTimeout,
    Func<TopicPartition, long?>? StartOffset = null)
{
    public static KafkaSourceSettings Create(ConsumerConfig consumer, params string[] topics) =>
        new(consumer, topics, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(30));
}
