using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Kafka;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Actors.Ingest;

/// <summary>
/// Keeps the <see cref="TransactionPipeline"/> running. A failed stream (a broken checkpoint,
/// Kafka unreachable, an alert that could not be published, a user that did not answer) is
/// restarted with back-off: its partition journals forget what was not committed, the source
/// seeks to their last commits, and users reload their committed state (a new generation).
/// </summary>
public sealed class TransactionIngest(
    TransactionPipeline pipeline,
    IPartitionJournals journals,
    KafkaSourceSettings source,
    IMaterializer materializer,
    ILoggingAdapter log)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private PipelineRun? _current;
    private Task? _loop;

    public void Start() => _loop = Task.Run(RunAsync);

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

        if (current is not null)
        {
            await endRun(current).ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var backoff = MinBackoff;

        // Each run's generation differs from every other run's, on this node and on the others
        // (a random start): a user seeing a message of another generation reloads its checkpoint.
        var first = Random.Shared.NextInt64(1, long.MaxValue / 2);
        for (var generation = first; !_stopping.IsCancellationRequested; generation++)
        {
            if (generation > first)
            {
                await RewindAsync().ConfigureAwait(false);
            }

            Task completion;
            lock (_gate)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                _current = pipeline.Run(source, materializer, generation);
                completion = _current.Completion;
            }

            try
            {
                await completion.ConfigureAwait(false);
                backoff = MinBackoff;
            }
            catch (Exception e)
            {
                log.Error(e, "Ingest stream failed; restarting in {0} from the last checkpoint", backoff);
                await Task.Delay(backoff, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private async Task RewindAsync()
    {
        foreach (var journal in journals.Started)
        {
            await journal.Ask<PartitionCheckpoint>(RewindPartition.Instance, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
    }
}
