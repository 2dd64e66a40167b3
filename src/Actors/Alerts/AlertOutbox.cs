using System.Text;
using Akka.Event;
using Confluent.Kafka;
using FraudActors.Messages.Alerts;

namespace FraudActors.Actors.Alerts;

/// <summary>
/// Publishes the alerts table to the alerts topic, each alert once (DESIGN.md section 4, step 6).
/// Rows are published in insertion order with an idempotent producer and marked published after
/// their delivery. A crash between delivery and the mark leaves published rows unmarked, so on
/// start the outbox first reads the topic's tail — at most one batch per partition can be
/// unmarked — and marks what it finds there before publishing more.
/// </summary>
public sealed class AlertOutbox(
    IAlertStore store,
    IProducer<byte[]?, byte[]> producer,
    string bootstrap,
    string topic,
    ILoggingAdapter log,
    Action<Alert>? published = null) : IAlertSink, IAsyncDisposable
{
    /// <summary>The header that carries the alert id, so a consumer can deduplicate without parsing the value.</summary>
    public const string AlertIdHeader = "alert_id";

    public const int BatchSize = 500;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan TailTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(500);

    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _draining;
    private Task? _loop;

    public long Published { get; private set; }

    /// <summary>Creates the table; the background loop then reconciles with the topic and publishes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>The pipeline's side: the alert goes into the table (a replay inserts nothing).</summary>
    public async Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        await store.AddAsync(alert, cancellationToken).ConfigureAwait(false);
        _wake.Release();
    }

    /// <summary>Publishes what is left in the table (once reconciled), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_loop is null)
        {
            return;
        }

        // Unpublished rows stay in the table for the next start if Kafka does not take them in time.
        _draining = true;
        _stop.CancelAfter(DrainTimeout);
        _wake.Release();
        await _loop.ConfigureAwait(false);
        _loop = null;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var reconciled = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!reconciled)
                {
                    var onTopic = ReadTail(TailTimeout, stop);
                    await store.MarkPublishedAsync(onTopic, stop).ConfigureAwait(false);
                    log.Info("Alert outbox: {0} alert(s) already on '{1}' marked published", onTopic.Count, topic);
                    reconciled = true;
                }

                await PublishBatchesAsync(stop).ConfigureAwait(false);
                if (_draining)
                {
                    return;
                }

                await _wake.WaitAsync(IdlePoll, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                log.Warning("Alert outbox: stopped before Kafka took every alert; unpublished alerts stay in the table for the next start");
                return;
            }
            catch (Exception e) when (_draining)
            {
                // Stopping: what is left stays in the table and is published after the next start.
                log.Warning("Alert outbox: {0}; unpublished alerts stay in the table for the next start", e.Message);
                return;
            }
            catch (Exception e)
            {
                // The table or Kafka is unavailable: nothing is lost, the rows wait.
                log.Warning("Alert outbox: {0}; retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
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

            var deliveries = rows.Select(row => producer.ProduceAsync(topic, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(row.UserId),
                Value = row.Payload,
                Headers = new Headers { { AlertIdHeader, Encoding.UTF8.GetBytes(row.AlertId) } },
            }, CancellationToken.None)).ToList();
            await Task.WhenAll(deliveries).ConfigureAwait(false);
            await store.MarkPublishedAsync([.. rows.Select(r => r.AlertId)], CancellationToken.None).ConfigureAwait(false);
            Published += rows.Count;
            foreach (var row in rows)
            {
                published?.Invoke(AlertJson.Deserialize(row.Payload));
            }
        }
    }

    /// <summary>
    /// The alert ids in the last <see cref="BatchSize"/> records of each partition of the topic.
    /// Every wait is a short step, so a stop is not held up by an unreachable Kafka.
    /// </summary>
    private List<string> ReadTail(TimeSpan timeout, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var metadata = Retry(() => admin.GetMetadata(topic, Step), deadline, stop);
        var partitions = metadata.Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, new Partition(p.PartitionId)))
            .ToList();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "fraud-alert-outbox-" + Guid.NewGuid().ToString("N"),
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
                    // Publishing without knowing the tail could publish an alert twice.
                    throw new TimeoutException($"alert outbox: could not read the tail of {partition} within {timeout}");
                }

                if (consumer.Consume(Step) is not { } record)
                {
                    continue;
                }

                next = record.Offset.Value + 1;
                if (record.Message.Headers.TryGetLastBytes(AlertIdHeader, out var id))
                {
                    ids.Add(Encoding.UTF8.GetString(id));
                }
            }
        }

        return ids;
    }

    /// <summary>Repeats a short Kafka request until it answers, the deadline passes or the outbox stops.</summary>
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
