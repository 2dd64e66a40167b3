using System.Globalization;
using Confluent.Kafka;
using FraudActors.Engine.Rescaling;
using FraudActors.Service.Configuration;
using FraudActors.Testkit;

namespace FraudActors.Service.Cli;

/// <summary>
/// What <c>fraud rescale</c> asks Kafka before it writes: that the topic already has the new
/// partition count (the producers' partitioner uses the topic's count, not ours), and that no old
/// partition holds records after its journal's last checkpoint for users that move: those were
/// produced under the old count and would be read, after the rescale, by a partition that no
/// longer has their users' state (a job stopped before it caught up, or without a final checkpoint).
/// </summary>
internal static class RescaleTopicCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <exception cref="ConfigurationException">The topic is not ready for this rescale (exit 2).</exception>
    public static void Run(FraudSettings settings, IReadOnlyList<JournalContents> journals, int toPartitions, ProducerPartitioner partitioner)
    {
        LibRdKafka.EnsureLoaded();
        var topic = settings.Topics.Transactions;
        var properties = KafkaClientConfigs.ConsumerProperties(settings);
        int count;
        using (var admin = new AdminClientBuilder(new AdminClientConfig(properties) { BootstrapServers = settings.Bootstrap }).Build())
        {
            try
            {
                var metadata = admin.GetMetadata(topic, Timeout).Topics.SingleOrDefault(t => t.Topic == topic);
                count = metadata is null || metadata.Error.IsError ? 0 : metadata.Partitions.Count;
            }
            catch (KafkaException e)
            {
                throw new ConfigurationException($"--bootstrap {settings.Bootstrap}: cannot read topic {topic}'s partitions ({e.Error.Reason}); the check needs Kafka (or --skip-kafka-check)");
            }
        }

        if (count != toPartitions)
        {
            throw new ConfigurationException(count == 0
                ? $"--topic: topic {topic} was not found at {settings.Bootstrap}"
                : $"--to-partitions {toPartitions}: topic {topic} has {count} partitions; add its partitions first (the producers place keys by the topic's count), then rescale to exactly that count");
        }

        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig(properties)
        {
            BootstrapServers = settings.Bootstrap,
            GroupId = settings.GroupId,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        foreach (var journal in journals.Where(j => j.NextOffset is not null && j.Partition < toPartitions))
        {
            var partition = new TopicPartition(topic, journal.Partition);
            var next = journal.NextOffset!.Value;
            var end = consumer.QueryWatermarkOffsets(partition, Timeout).High.Value;
            if (end < next)
            {
                throw new ConfigurationException($"partition {journal.Partition} of topic {topic} ends at offset {end}, but its journal has read up to {next}: is this the job's topic (--topic, --bootstrap)?");
            }

            if (end > next && MovingUser(consumer, partition, next, end, toPartitions, partitioner) is { } moving)
            {
                throw new ConfigurationException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"partition {journal.Partition} has {end - next} record(s) after its last checkpoint (offsets {next}-{end - 1}), among them user {moving.User}'s at offset {moving.Offset}, whose state moves to partition {moving.To}: the job stopped before it read them, or without a final checkpoint. Stop the producers, run the job until it has read them, stop it (Ctrl-C or SIGTERM: a final checkpoint), then rescale"));
            }
        }
    }

    /// <summary>The first record in [<paramref name="from"/>, <paramref name="end"/>) whose key the partitioner now places elsewhere.</summary>
    private static (string User, long Offset, int To)? MovingUser(IConsumer<byte[]?, byte[]?> consumer, TopicPartition partition, long from, long end, int partitions, ProducerPartitioner partitioner)
    {
        consumer.Assign(new TopicPartitionOffset(partition, from));
        try
        {
            while (true)
            {
                var record = consumer.Consume(Timeout) ?? throw new ConfigurationException($"partition {partition.Partition.Value}: its records after offset {from} could not be read within {Timeout.TotalSeconds:0} s");
                if (!record.IsPartitionEOF && record.Message.Key is { Length: > 0 } key)
                {
                    var to = partitioner.PartitionOf(key, partitions);
                    if (to != partition.Partition.Value)
                    {
                        return (System.Text.Encoding.UTF8.GetString(key), record.Offset.Value, to);
                    }
                }

                if (record.IsPartitionEOF || record.Offset.Value + 1 >= end)
                {
                    return null;
                }
            }
        }
        finally
        {
            consumer.Unassign();
        }
    }
}
