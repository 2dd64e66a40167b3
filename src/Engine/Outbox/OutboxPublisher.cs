using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Outbox;

/// <summary>
/// Publishes an outbox table to Kafka, each row once (docs/design.md, section 4, step 6). Rows are
/// published in insertion order with an idempotent producer, each with its id in
/// <c>idHeader</c>, and marked published after their delivery. A crash between delivery and the
/// mark leaves at most one batch delivered but unmarked, so before publishing the publisher reads
/// the tail of every topic it may write to — the configured ones and those of the oldest
/// unpublished rows — and marks the ids it finds there. It does the same after a failed batch,
/// whose records may have reached the topic although their delivery reported an error.
/// With a <c>fence</c> (the node's publishers have one per job and outbox) a publisher takes the
/// outbox's next epoch in the store when it starts and checks it before every batch, and every
/// second while idle: one that finds a newer epoch was replaced (another cluster of the job, or
/// it was frozen or split off) and logs a line starting <c>fenced:</c> and publishes nothing more.
/// With a <c>transactionalId</c> each batch is also a Kafka transaction of a producer of its own,
/// so that a real broker aborts and refuses the batch a replaced publisher had in flight
/// (docs/design.md, "One cluster per job").
/// </summary>
/// <param name="name">How the log names this outbox, e.g. "Alert outbox".</param>
/// <param name="topics">Every topic the table's rows go to, read on start.</param>
/// <param name="bell">Rung by the side that inserts rows on this node: the publisher listens while it runs.</param>
/// <param name="kafka">librdkafka properties of the clients that read the tails (security: TLS, SASL), as the node's other clients get them.</param>
/// <param name="transactionalId">When set, batches go out as transactions of a producer of the publisher's own with this id (and <paramref name="producer"/> is not used).</param>
/// <param name="fence">When set, the publisher takes the outbox's next epoch in the store on start and stops, fenced, once another publisher took a newer one.</param>
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
    IReadOnlyDictionary<string, string>? kafka = null,
    string? transactionalId = null,
    OutboxFence? fence = null) : IAsyncDisposable
{
    public const int BatchSize = 500;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan TailTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle publisher looks at the fence.</summary>
    private static readonly TimeSpan FenceCheck = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _fenced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reconciled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _draining;
    private long _published;
    private Task? _loop;

    /// <summary>The transactional producer, taken over when the loop starts (null without a transactional id).</summary>
    private IProducer<byte[]?, byte[]>? _transactional;

    /// <summary>The outbox's epoch this publisher took in the store (with a fence).</summary>
    private long? _epoch;

    /// <summary>When the fence was last looked at.</summary>
    private DateTime _fenceChecked;

    /// <summary>Completes when another publisher took the outbox over (a newer epoch, or the transactional id): this one publishes nothing more.</summary>
    public Task Fenced => _fenced.Task;

    /// <summary>Completes once the publisher has taken its epoch and transactional id (where it has them) and read the topics' tails.</summary>
    public Task Reconciled => _reconciled.Task;

    /// <summary>How many rows this publisher put on Kafka (not counting those found there on start).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Creates the table; the background loop then reconciles with the topics and publishes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (fence is not null)
        {
            await fence.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

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
        try
        {
            await PublishUntilStoppedAsync(stop).ConfigureAwait(false);
        }
        finally
        {
            _transactional?.Dispose();
            _transactional = null;
        }
    }

    private async Task PublishUntilStoppedAsync(CancellationToken stop)
    {
        var reconciled = false;
        var retry = new RestartBackoff(MinRetry, MaxRetry);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!reconciled)
                {
                    // The epoch and the id first: an earlier publisher stops at its next batch, and
                    // (on a broker that fences transactional ids) its open transaction is aborted
                    // before the tails are read.
                    if (fence is not null && _epoch is null)
                    {
                        _epoch = await fence.TakeAsync(stop).ConfigureAwait(false);
                        log.Info("{0}: took epoch {1} of {2}", name, _epoch, fence);
                    }

                    TakeTransactionalId();
                    var pending = await store.UnpublishedAsync(BatchSize, stop).ConfigureAwait(false);
                    var targets = topics.Concat(pending.Select(r => r.Topic)).Distinct(StringComparer.Ordinal).ToList();
                    var onTopics = targets.SelectMany(topic => ReadTail(topic, TailTimeout, stop)).ToList();
                    await store.MarkPublishedAsync(onTopics, stop).ConfigureAwait(false);
                    log.Info("{0}: {1} record(s) already on {2} marked published", name, onTopics.Count, string.Join(", ", targets.Select(t => $"'{t}'")));
                    reconciled = true;
                    _reconciled.TrySetResult();
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
            catch (FencedException e)
            {
                log.Error("fenced: {0}: {1} took the outbox over; this one publishes nothing more", name, e.Holder);
                _fenced.TrySetResult();
                return;
            }
            catch (KafkaException e) when (IsFenced(e.Error))
            {
                log.Error("fenced: {0}: another publisher of this job took transactional.id '{1}' over; this one publishes nothing more ({2})", name, transactionalId, e.Error.Reason);
                _fenced.TrySetResult();
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
                DropTransactionalProducerAfter(e);
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
                // Idle, the epoch is still looked at every second: a replaced publisher learns it
                // (and its node stops) without waiting for an alert to publish.
                if (fence is not null && DateTime.UtcNow - _fenceChecked > FenceCheck)
                {
                    await CheckFenceAsync(stop).ConfigureAwait(false);
                }

                return;
            }

            if (fence is not null)
            {
                await CheckFenceAsync(stop).ConfigureAwait(false);
            }

            var sender = _transactional ?? producer;
            _transactional?.BeginTransaction();
            try
            {
                var deliveries = rows.Select(row => sender.ProduceAsync(row.Topic, new Message<byte[]?, byte[]>
                {
                    Key = Encoding.UTF8.GetBytes(row.Key),
                    Value = row.Payload,
                    Headers = new Headers { { idHeader, Encoding.UTF8.GetBytes(row.Id) } },
                }, CancellationToken.None)).ToList();
                await Task.WhenAll(deliveries).ConfigureAwait(false);
                _transactional?.CommitTransaction(TailTimeout);
            }
            catch (KafkaException e) when (_transactional is not null && !IsFenced(e.Error) && !e.Error.IsFatal)
            {
                // Not one of the batch's records becomes visible; the rows stay unpublished and the retry reads the tails again.
                TryAbort();
                throw;
            }

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

            // What readers see: an aborted batch of a fenced publisher is not on the topic for them.
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
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

                if (record.IsPartitionEOF)
                {
                    // The end of what is committed: aborted records and transaction markers return nothing.
                    break;
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

    /// <summary>
    /// Makes the transactional producer and takes the id over (<c>InitTransactions</c>): the
    /// broker aborts what an earlier holder of the id left open and fences it.
    /// </summary>
    private void TakeTransactionalId()
    {
        if (transactionalId is null || _transactional is not null)
        {
            return;
        }

        var transactional = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig(Properties())
        {
            BootstrapServers = bootstrap,
            ClientId = "fraud-outbox",
            TransactionalId = transactionalId,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 0,
        }).Build();
        try
        {
            transactional.InitTransactions(TailTimeout);
        }
        catch
        {
            transactional.Dispose();
            throw;
        }

        _transactional = transactional;
        log.Info("{0}: publishing as transactional.id '{1}'; an earlier publisher of this id is fenced", name, transactionalId);
    }

    /// <summary>After a failure the producer cannot recover from, the next attempt makes a new one.</summary>
    private void DropTransactionalProducerAfter(Exception e)
    {
        if (_transactional is not null && e is KafkaException { Error.IsFatal: true })
        {
            _transactional.Dispose();
            _transactional = null;
        }
    }

    private void TryAbort()
    {
        try
        {
            _transactional!.AbortTransaction(TailTimeout);
        }
        catch (KafkaException e)
        {
            log.Warning("{0}: the failed batch's transaction was not aborted ({1}); the broker aborts it when it times out", name, e.Error.Reason);
        }
    }

    /// <summary>Throws <see cref="FencedException"/> when another publisher took a newer epoch of the outbox.</summary>
    private async Task CheckFenceAsync(CancellationToken stop)
    {
        _fenceChecked = DateTime.UtcNow;
        if (await fence!.TakenOverAsync(_epoch!.Value, stop).ConfigureAwait(false) is { } holder)
        {
            throw new FencedException(holder);
        }
    }

    /// <summary>Another publisher took a newer epoch of the outbox.</summary>
    private sealed class FencedException(string holder) : Exception($"fenced by {holder}")
    {
        public string Holder { get; } = holder;
    }

    /// <summary>True for the errors that say a newer producer of the same transactional id exists.</summary>
    private static bool IsFenced(Confluent.Kafka.Error error) =>
        error.Code is ErrorCode.Local_Fenced or ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch;

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
