using Confluent.Kafka;
using FraudActors.Engine.Kafka;

namespace FraudActors.Testkit;

/// <summary>Topic chores the dev broker cannot do itself.</summary>
public static class DevBrokerTopics
{
    /// <summary>
    /// Grows <paramref name="topic"/> to <paramref name="partitions"/> partitions as Kafka's
    /// CreatePartitions would, which librdkafka's mock cluster does not answer: the topic's records
    /// are read, the topic is deleted and created again with more partitions, and each old
    /// partition's records are produced again to the same partition, in order, so that every record
    /// is back at its partition and offset (checked) and the new partitions are empty. The
    /// consumer groups' committed offsets of the topic are lost with it (the service resumes from
    /// its partition journals, never from them). Run it while nothing reads or writes the topic.
    /// </summary>
    public static async Task GrowAsync(DevBroker broker, string topic, int partitions, TimeSpan timeout)
    {
        var records = TopicReader.ReadAll(broker.BootstrapServers, topic, timeout);
        broker.DeleteTopic(topic);
        broker.CreateTopic(topic, partitions);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
        }).Build();
        // All in flight at once: the idempotent producer keeps each partition's order.
        var sent = records.OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value)
            .Select(r => (r.Offset, Delivery: producer.ProduceAsync(
                new TopicPartition(topic, r.Partition),
                new Message<byte[]?, byte[]> { Key = r.Message.Key, Value = r.Message.Value, Headers = r.Message.Headers, Timestamp = r.Message.Timestamp })))
            .ToList();
        await Task.WhenAll(sent.Select(s => s.Delivery)).ConfigureAwait(false);
        foreach (var (offset, delivery) in sent)
        {
            var delivered = await delivery.ConfigureAwait(false);
            if (delivered.Offset != offset)
            {
                throw new InvalidOperationException($"{topic} [{delivered.Partition.Value}]: a record at offset {offset.Value} came back at {delivered.Offset.Value}");
            }
        }
    }
}
