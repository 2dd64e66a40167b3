using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <summary>
/// The end offsets (high watermarks) of partitions, asked of the brokers by a consumer of its own
/// that never joins a group: what lag is measured against. A failed query means Kafka is not
/// reachable, which readiness reports.
/// </summary>
public sealed class KafkaEndOffsets(string bootstrap, IReadOnlyDictionary<string, string>? properties = null) : IDisposable
{
    private readonly object _gate = new();
    private IConsumer<byte[]?, byte[]>? _consumer;

    /// <summary>The end offset of each partition; throws <see cref="KafkaException"/> when the brokers do not answer in time.</summary>
    public IReadOnlyDictionary<int, long> Query(string topic, IEnumerable<int> partitions, TimeSpan timeout)
    {
        var ends = new Dictionary<int, long>();
        lock (_gate)
        {
            _consumer ??= Build();
            foreach (var partition in partitions)
            {
                var offsets = _consumer.QueryWatermarkOffsets(new TopicPartition(topic, new Partition(partition)), timeout);
                ends[partition] = offsets.High.Value;
            }
        }

        return ends;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _consumer?.Dispose();
            _consumer = null;
        }
    }

    private IConsumer<byte[]?, byte[]> Build()
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(properties ?? new Dictionary<string, string>()))
        {
            BootstrapServers = bootstrap,
            ClientId = "fraud-node-offsets",
            GroupId = "fraud-node-offsets",
            EnableAutoCommit = false,
        };
        return new ConsumerBuilder<byte[]?, byte[]>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
    }
}
