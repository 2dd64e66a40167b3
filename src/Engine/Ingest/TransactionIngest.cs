using Akka.Streams;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// Keeps the <see cref="TransactionPipeline"/> running. A failed stream (a broken checkpoint,
/// Kafka unreachable, an alert that could not be published, a user that did not answer) is
/// restarted with back-off, rewound in place: its partition journals forget what was not
/// committed, the next run's source seeks the partitions this node still owns to their last
/// commits through the same consumer (one <see cref="KafkaGroupMember"/> for the ingest's life,
/// so a rewind is no rebalance), and users reload their committed state (a new generation).
/// The pause before each restart grows while restarts keep failing (<see cref="RestartBackoff"/>):
/// while the database is down nothing is read, and nothing restarts in a tight loop.
/// </summary>
/// <param name="storeAnswers">Completes when the store's database answers (null: no database); each restart waits for it.</param>
public sealed class TransactionIngest(
    TransactionPipeline pipeline,
    IPartitionJournals journals,
    KafkaSourceSettings source,
    IMaterializer materializer,
    ILoggingAdapter log,
    Func<Task>? storeAnswers = null)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RewindTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How often a journal restarting after a database error is asked again to rewind.</summary>
    private static readonly TimeSpan RewindRetry = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a failed run's source may take to stop (a revocation it waits in is bounded by its own timeout).</summary>
    private static readonly TimeSpan SourceStopTimeout = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private PipelineRun? _current;
    private Task? _loop;
    private KafkaGroupMember _member = new();
    private int _earlierJoins;

    /// <summary>Times the node's consumer joined its group: once, unless the Kafka client failed for good.</summary>
    public int GroupJoins => _earlierJoins + _member.Joins;

    /// <summary>Runs of the stream that failed and were restarted.</summary>
    public int Restarts => pipeline.Metrics.Restarts;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>
    /// Completes when the first run may start (the node's rules are read, docs/design.md,
    /// "Dynamic rules"); null: at once. A stop before then ends the ingest without a run.
    /// </summary>
    public Task? StartAfter { get; init; }

    /// <summary>
    /// Stops like Flink's stop-with-savepoint: no new records are read, a final checkpoint
    /// commits the ones in flight, the offsets are committed and the consumer leaves its group.
    /// </summary>
    public Task StopAsync() => EndAsync(async run =>
    {
        var drained = run.Control.DrainAndStopAsync();
        await run.CheckpointNow().ConfigureAwait(false);
        await drained.ConfigureAwait(false);
    });

    /// <summary>
    /// Stops like Flink's cancel: reading stops at once and no final checkpoint is taken, so a
    /// restart resumes from the last checkpoint and reads the records after it again.
    /// </summary>
    public Task CancelAsync() => EndAsync(run => run.Control.StopNowAsync());

    /// <summary>No new run starts; the current one ends by <paramref name="endRun"/>; then the loop ends.</summary>
    private async Task EndAsync(Func<PipelineRun, Task> endRun)
    {
        PipelineRun? current;
        lock (_gate)
        {
            _stopping.Cancel();
            current = _current;
        }

        // A run that already failed (the loop waits out its back-off) has nothing to stop or checkpoint.
        if (current is not null && !current.Completion.IsCompleted)
        {
            try
            {
                await endRun(current).ConfigureAwait(false);
            }
            catch (Exception) when (current.Completion.IsCompleted)
            {
                // It failed while being stopped: the loop has its failure, and starts no other run.
            }
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await RunLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            // Commits the stored offsets and leaves the group, so the partitions move at once.
            _member.Close();
        }
    }

    private async Task RunLoopAsync()
    {
        if (StartAfter is { } ready)
        {
            try
            {
                await ready.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var backoff = new RestartBackoff(MinBackoff, MaxBackoff);

        // Each run's generation differs from every other run's, on this node and on the others
        // (a random start): a user seeing a message of another generation reloads its checkpoint.
        var first = Random.Shared.NextInt64(1, long.MaxValue / 2);
        for (var generation = first; !_stopping.IsCancellationRequested; generation++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                if (generation > first)
                {
                    // A store or journal that cannot answer (its database is down) fails this
                    // attempt like a failed run: retried after the back-off, never ending the loop.
                    // A run started without the database would read from the last commit up to
                    // its first alert or checkpoint only to fail again, so nothing is read first.
                    if (storeAnswers is not null)
                    {
                        await storeAnswers().ConfigureAwait(false);
                    }

                    await RewindAsync().ConfigureAwait(false);
                }

                Task completion;
                lock (_gate)
                {
                    if (_stopping.IsCancellationRequested)
                    {
                        return;
                    }

                    _current = pipeline.Run(source with { Member = _member }, materializer, generation);
                    completion = _current.Completion;
                }

                await completion.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var failedAt = DateTimeOffset.UtcNow;
                DatabaseError.ClearPoolsAfter(e);
                await ReleaseSourceAsync(e).ConfigureAwait(false);
                var delay = backoff.Next(System.Diagnostics.Stopwatch.GetElapsedTime(started));
                pipeline.Metrics.RecordRestart(failedAt, delay);
                var why = Unwrap(e) switch
                {
                    CheckpointFailedException failed => failed.Message,
                    var other when DatabaseError.IsDatabase(other) => DatabaseError.Describe(other),
                    var other => other.Message,
                };

                // Infrastructure faults in one line; anything else with its stack, it may be a bug.
                log.Error(
                    IsInfrastructure(e) ? null : e,
                    "Ingest stream failed: {0}; restart {1} from the last checkpoint in {2:0.#} s",
                    why,
                    backoff.Restarts,
                    delay.TotalSeconds);
                await Task.Delay(delay, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The failed run's source must stop reading before the next run takes its consumer over. A
    /// Kafka client that failed for good, or a source that does not stop, gives its membership up:
    /// the next run joins the group anew.
    /// </summary>
    private async Task ReleaseSourceAsync(Exception failure)
    {
        PipelineRun? failed;
        lock (_gate)
        {
            failed = _current;
        }

        var stopped = failed is null || await failed.Control.Completion.WaitAsync(SourceStopTimeout).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default).ConfigureAwait(false);
        if (!stopped)
        {
            log.Warning("Kafka source of the failed run did not stop within {0}; the next run joins the group with a new consumer", SourceStopTimeout);
            _earlierJoins += _member.Joins;
            _member = new KafkaGroupMember();
        }
        else if (Unwrap(failure) is KafkaException { Error.IsFatal: true })
        {
            _member.Close();
        }
    }

    private static bool IsInfrastructure(Exception e) =>
        Unwrap(e) is CheckpointFailedException or AskTimeoutException or TimeoutException or KafkaException or JournalRestartingException || DatabaseError.IsDatabase(e);

    /// <summary>The stream's failure as it came from its stage (Akka.Streams wraps a task's in an aggregate).</summary>
    private static Exception Unwrap(Exception e) =>
        e is AggregateException aggregate && aggregate.Flatten().InnerExceptions is [var single] ? single : e;

    /// <summary>
    /// Every started journal forgets what was not committed. A journal restarting after a
    /// database error answers that it is (at once): it is asked again until it is back, so the
    /// next run starts as soon as its journals can serve their users, not a back-off later.
    /// </summary>
    private async Task RewindAsync()
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(journals.Started.Select(RewindOneAsync)).ConfigureAwait(false);

        async Task RewindOneAsync(IActorRef journal)
        {
            while (true)
            {
                try
                {
                    await journal.Ask<PartitionCheckpoint>(RewindPartition.Instance, RewindTimeout).ConfigureAwait(false);
                    return;
                }
                catch (AskTimeoutException e)
                {
                    throw new TimeoutException($"a partition journal did not rewind within {RewindTimeout} (it recovers from its database after a back-off)", e);
                }
                catch (JournalRestartingException) when (deadline.Elapsed < RewindTimeout && !_stopping.IsCancellationRequested)
                {
                    await Task.Delay(RewindRetry, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                }
            }
        }
    }
}
