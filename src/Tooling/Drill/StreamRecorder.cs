using Confluent.Kafka;
namespace FraudActors.Tooling.Drill;

/// <summary>
/// Reads a topic from its start while it is written, keeping every record: the dev broker keeps
/// only the last ~5 MiB of a partition, so a stream longer than that can no longer be read back
/// whole at the end, but a reader that follows it sees every record before it is deleted.
/// </summary>
public sealed class StreamRecorder : IDisposable
{
    private readonly string _bootstrap;
    private readonly IConsumer<byte[]?, byte[]> _consumer;
    private readonly List<TopicPartition> _partitions;
    private readonly List<ConsumeResult<byte[]?, byte[]>> _records = [];
    private readonly Dictionary<int, long> _next = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private Exception? _failure;

    public StreamRecorder(string bootstrap, string topic, int partitions)
    {
        _bootstrap = bootstrap;
        _partitions = [.. Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, new Partition(p)))];
        _consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "fraud-recorder-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        _consumer.Assign(_partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        _thread = new Thread(Follow) { IsBackground = true, Name = "drill-stream-recorder" };
        _thread.Start();
    }

    /// <summary>
    /// Waits until every record written so far (up to each partition's high watermark now) was
    /// read, and returns them all. A record deleted before it was read fails: the stream is then
    /// not whole.
    /// </summary>
    public async Task<List<ConsumeResult<byte[]?, byte[]>>> AllAsync(TimeSpan timeout, CancellationToken stop)
    {
        Dictionary<int, long> high;
        using (var query = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _bootstrap, GroupId = "fraud-recorder-query" }).Build())
        {
            high = _partitions.ToDictionary(p => p.Partition.Value, p => query.QueryWatermarkOffsets(p, timeout).High.Value);
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_records)
            {
                if (_failure is not null)
                {
                    throw new InvalidOperationException("the drill's reader of the stream failed", _failure);
                }

                if (high.All(h => _next.GetValueOrDefault(h.Key) >= h.Value))
                {
                    var all = _records.Where(r => r.Offset.Value < high[r.Partition.Value]).ToList();
                    var missing = high.Sum(h => h.Value) - all.Count;
                    return missing == 0 ? all : throw new InvalidOperationException($"{missing} records of the stream were deleted by the dev broker before the drill read them");
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the drill's reader did not reach the end of the stream within {timeout}");
            }

            await Task.Delay(100, stop).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }

    private void Follow()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (_consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
                {
                    lock (_records)
                    {
                        _records.Add(result);
                        _next[result.Partition.Value] = result.Offset.Value + 1;
                    }
                }
            }
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException)
        {
            lock (_records)
            {
                _failure = e;
            }
        }
    }
}
