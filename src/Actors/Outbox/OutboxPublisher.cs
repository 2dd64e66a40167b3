using System.Text;
using Akka.Event;
using Confluent.Kafka;
using FraudActors.Actors.Ingest;
using FraudActors.Actors.Storage;

namespace FraudActors.Actors.Outbox;

/// <summary>
/// Publishes an outbox table to Kafka, each row once (docs/design.md, section 4, step 6). Rows are
/// published in insertion order with an idempotent producer, each with its id in
/// <c>idHeader</c>, and marked published after their delivery. A crash between delivery and the
/// mark leaves at most one batch delivered but unmarked, so before publishing the publisher reads
/// the tail of every topic it may write to — the configured ones and those of the oldest
/// unpublished rows — and marks the ids it finds there. It does the same after a failed batch,
/// whose records may have reached the topic although their delivery reported an error.
/// </summary>
/// <param name="name">How the log names this outbox, e.g. "Alert outbox".</param>
/// <param name="topics">Every topic the table's rows go to, read on start.</param>
/// <param name="bell">Rung by the side that inserts rows on this node: the publisher listens while it runs.</param>
/// <param name="kafka">librdkafka properties of the clients that read the tails (security: TLS, SASL), as the node's other clients get them.</param>
public sealed class OutboxPublisher(
    string name,
    IOutboxStore store,
    IProducer<byte[]?, byte[]> producer,
    string bootstrap,
    IReadOnlyCollection<string> topics,
    string idHeader,
    ILoggingAdapter log,
    Action<OutboxRow>? published = null,
    OutboxBell? bell = null,
    IReadOnlyDictionary<string, string>? kafka = null) : IAsyncDisposable
{
    public const int BatchSize = 500;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan TailTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _draining;
    private long _published;
    private Task? _loop;

    /// <summary>How many rows this publisher put on Kafka (not counting those found there on start).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Creates the table; the background loop then reconciles with the topics and publishes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        bell?.Listen(Wake);
    }

    /// <summary>Tells the loop that rows were added, so it publishes them without waiting for its next poll.</summary>
    public void Wake() => _wake.Release();

    /// <summary>Publishes what is left in the table (once reconciled), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_loop is null)
        {
            return;
        }

        // Unpublished rows stay in the table for the next start if Kafka does not take them in time.
        bell?.Ignore(Wake);
        _draining = true;
        _stop.CancelAfter(DrainTimeout);
        _wake.Release();
        await _loop.ConfigureAwait(false);
        _loop = null;
    }

    /// <summary>Stops at once, without publishing what is left (a batch under way still completes and is marked).</summary>
    public async Task CancelAsync()
    {
        if (_loop is null)
        {
            return;
        }

        bell?.Ignore(Wake);
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _loop = null;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var reconciled = false;
        var retry = new RestartBackoff(MinRetry, MaxRetry);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!reconciled)
                {
                    var pending = await store.UnpublishedAsync(BatchSize, stop).ConfigureAwait(false);
                    var targets = topics.Concat(pending.Select(r => r.Topic)).Distinct(StringComparer.Ordinal).ToList();
                    var onTopics = targets.SelectMany(topic => ReadTail(topic, TailTimeout, stop)).ToList();
                    await store.MarkPublishedAsync(onTopics, stop).ConfigureAwait(false);
                    log.Info("{0}: {1} record(s) already on {2} marked published", name, onTopics.Count, string.Join(", ", targets.Select(t => $"'{t}'")));
                    reconciled = true;
                }

                await PublishBatchesAsync(stop).ConfigureAwait(false);
                retry.Reset();
                if (_draining)
                {
                    return;
                }

                await _wake.WaitAsync(IdlePoll, stop).ConfigureAwait(false);

                // One pass publishes every row inserted before it: the wakes of those rows are spent.
                while (_wake.Wait(0))
                {
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                log.Warning("{0}: stopped before Kafka took every record; unpublished records stay in the table for the next start", name);
                return;
            }
            catch (Exception e) when (_draining)
            {
                // Stopping: what is left stays in the table and is published after the next start.
                log.Warning("{0}: {1}; unpublished records stay in the table for the next start", name, e.Message);
                return;
            }
            catch (Exception e)
            {
                // The table or Kafka is unavailable: nothing is lost, the rows wait. Part of a failed
                // batch may be on a topic already, so the tails are read again before the retry.
                // The pause doubles up to MaxRetry: an outage is retried a few times a minute, not every second.
                var delay = retry.Next();
                DatabaseError.ClearPoolsAfter(e);
                log.Warning("{0}: {1}; the rows wait in the table, retrying in {2:0.#} s", name, DatabaseError.Describe(e), delay.TotalSeconds);
                reconciled = false;
                await Task.Delay(delay, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task PublishBatchesAsync(CancellationToken stop)
    {
        while (true)
        {
            var rows = await store.UnpublishedAsync(BatchSize, stop).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return;
            }

            var deliveries = rows.Select(row => producer.ProduceAsync(row.Topic, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(row.Key),
                Value = row.Payload,
                Headers = new Headers { { idHeader, Encoding.UTF8.GetBytes(row.Id) } },
            }, CancellationToken.None)).ToList();
            await Task.WhenAll(deliveries).ConfigureAwait(false);
            await store.MarkPublishedAsync([.. rows.Select(r => r.Id)], CancellationToken.None).ConfigureAwait(false);
            Interlocked.Add(ref _published, rows.Count);
            foreach (var row in rows)
            {
                published?.Invoke(row);
            }
        }
    }

    /// <summary>
    /// The ids in the last <see cref="BatchSize"/> records of each partition of the topic.
    /// Every wait is a short step, so a stop is not held up by an unreachable Kafka.
    /// </summary>
    private List<string> ReadTail(string topic, TimeSpan timeout, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var admin = new AdminClientBuilder(new AdminClientConfig(Properties()) { BootstrapServers = bootstrap }).Build();
        var metadata = Retry(() => admin.GetMetadata(topic, Step), deadline, stop);
        var partitions = metadata.Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, new Partition(p.PartitionId)))
            .ToList();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(Properties())
        {
            BootstrapServers = bootstrap,
            GroupId = $"fraud-outbox-tail-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();
        var ids = new List<string>();
        foreach (var partition in partitions)
        {
            var marks = Retry(() => consumer.QueryWatermarkOffsets(partition, Step), deadline, stop);
            var from = Math.Max(marks.Low.Value, marks.High.Value - BatchSize);
            if (from >= marks.High.Value)
            {
                continue;
            }

            consumer.Assign(new TopicPartitionOffset(partition, new Offset(from)));
            for (var next = from; next < marks.High.Value;)
            {
                stop.ThrowIfCancellationRequested();
                if (DateTime.UtcNow > deadline)
                {
                    // Publishing without knowing the tail could publish a record twice.
                    throw new TimeoutException($"{name}: could not read the tail of {partition} within {timeout}");
                }

                if (consumer.Consume(Step) is not { } record)
                {
                    continue;
                }

                next = record.Offset.Value + 1;
                if (record.Message.Headers.TryGetLastBytes(idHeader, out var id))
                {
                    ids.Add(Encoding.UTF8.GetString(id));
                }
            }
        }

        return ids;
    }

    private Dictionary<string, string> Properties() => kafka is null ? [] : new(kafka);

    /// <summary>Repeats a short Kafka request until it answers, the deadline passes or the publisher stops.</summary>
    private static T Retry<T>(Func<T> request, DateTime deadline, CancellationToken stop)
    {
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            try
            {
                return request();
            }
            catch (KafkaException) when (DateTime.UtcNow < deadline)
            {
                stop.WaitHandle.WaitOne(Step / 5);
            }
        }
    }
}
