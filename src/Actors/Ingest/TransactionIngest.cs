using Akka.Event;
using Akka.Streams;
using FraudActors.Actors.Kafka;

namespace FraudActors.Actors.Ingest;

/// <summary>
/// Keeps the <see cref="TransactionPipeline"/> running: a failed stream (Kafka unreachable, an
/// alert that could not be published, a user that did not answer) is restarted with back-off from
/// the last committed offsets, so the service outlives any single fault.
/// </summary>
public sealed class TransactionIngest(
    TransactionPipeline pipeline,
    KafkaSourceSettings source,
    IMaterializer materializer,
    ILoggingAdapter log)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private IKafkaSourceControl? _current;
    private Task? _loop;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Drains the records in flight, commits their offsets and stops.</summary>
    public async Task StopAsync()
    {
        IKafkaSourceControl? current;
        lock (_gate)
        {
            _stopping.Cancel();
            current = _current;
        }

        if (current is not null)
        {
            await current.DrainAndStopAsync().ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var backoff = MinBackoff;
        while (!_stopping.IsCancellationRequested)
        {
            Task completion;
            lock (_gate)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                (_current, completion) = pipeline.Run(source, materializer);
            }

            try
            {
                await completion.ConfigureAwait(false);
                backoff = MinBackoff;
            }
            catch (Exception e)
            {
                log.Error(e, "Ingest stream failed; restarting in {0} from the last committed offsets", backoff);
                await Task.Delay(backoff, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
