using Confluent.Kafka;
namespace FraudActors.Tooling.Drill;

/// <summary>The transactions topic's offsets and the drill group's commits, through one client that never joins the group.</summary>
internal sealed class GroupOffsets(string bootstrap, string group, string topic, int partitions) : IDisposable
{
    private static readonly TimeSpan KafkaTimeout = TimeSpan.FromSeconds(10);

    private readonly IConsumer<Ignore, Ignore> _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false })
        .SetLogHandler((_, _) => { })
        .Build();

    private readonly List<TopicPartition> _partitions = [.. Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, new Partition(p)))];

    public Offsets Read()
    {
        var committed = _consumer.Committed(_partitions, KafkaTimeout).ToDictionary(c => c.Partition.Value, c => Math.Max(0, c.Offset.Value));
        long end = 0, sum = 0, lag = 0, dropped = 0;
        foreach (var partition in _partitions)
        {
            var marks = _consumer.QueryWatermarkOffsets(partition, KafkaTimeout);
            var done = committed.GetValueOrDefault(partition.Partition.Value);
            end += marks.High.Value;
            sum += done;
            lag += Math.Max(0, marks.High.Value - done);
            dropped += Math.Max(0, marks.Low.Value - done);
        }

        return new Offsets(end, sum, lag, dropped);
    }

    /// <summary>Fails when the dev broker already deleted records nobody read (it keeps ~5 MiB per partition).</summary>
    public void ThrowIfDropped(string what)
    {
        if (Read().Dropped is var dropped and > 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"soak: the dev broker dropped {dropped} of {what} before they were read (it keeps ~5 MiB per partition)"));
        }
    }

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }
}

/// <summary>The group's position over all partitions of the topic.</summary>
/// <param name="End">Records produced: the end offsets' sum.</param>
/// <param name="Committed">Records the group committed: the committed offsets' sum (none counts 0).</param>
/// <param name="Lag">End minus committed, over all partitions.</param>
/// <param name="Dropped">Records the dev broker deleted before the group committed past them.</param>
internal readonly record struct Offsets(long End, long Committed, long Lag, long Dropped);
