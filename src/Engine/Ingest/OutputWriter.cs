using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// The record path's outputs — alerts and window results — written behind it in batches: what
/// the users raise is added here and the record path goes on; one write at a time takes
/// everything added since the last one began (group commit), so a busy stream makes few large
/// inserts and a quiet one writes each alert at once. A checkpoint commits only after
/// <see cref="FlushAsync"/>: the outputs of every record before its barrier are in the tables
/// (docs/design.md, "Outputs before the commit"). A failed write fails every later flush and
/// tells <paramref name="failed"/> at once, so the stream rewinds and the records raise their
/// outputs again (same ids, stored once).
/// </summary>
internal sealed class OutputWriter(IOutputSink<Alert> alerts, IOutputSink<WindowResult>? windows, PipelineMetrics metrics, Action<Exception> failed)
{
    private readonly object _gate = new();
    private List<Alert> _alerts = [];
    private List<WindowResult> _windows = [];
    private readonly List<(long Through, TaskCompletionSource Done)> _waiting = [];

    /// <summary>Batches added so far; a write takes all of them.</summary>
    private long _added;

    /// <summary>Batches in the tables.</summary>
    private long _written;

    private bool _writing;
    private Exception? _failure;

    /// <summary>Adds outputs of records already applied (any thread); a write starts unless one is under way.</summary>
    public void Add(IReadOnlyList<Alert>? raised, IReadOnlyList<WindowResult>? closed)
    {
        if ((raised is null || raised.Count == 0) && (closed is null || closed.Count == 0))
        {
            return;
        }

        if (closed is { Count: > 0 } && windows is null)
        {
            throw new InvalidOperationException("users emit window results but the pipeline has no window result sink");
        }

        lock (_gate)
        {
            if (raised is { Count: > 0 })
            {
                _alerts.AddRange(raised);
            }

            if (closed is { Count: > 0 })
            {
                _windows.AddRange(closed);
            }

            _added++;
            if (_writing || _failure is not null)
            {
                return;
            }

            _writing = true;
        }

        _ = WriteAsync();
    }

    /// <summary>Completes when every output added so far is in the tables; fails when a write failed.</summary>
    public Task FlushAsync()
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }

            if (_written >= _added)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((_added, done));
            return done.Task;
        }
    }

    /// <summary>Writes what is buffered, again while more came meanwhile; one at a time.</summary>
    private async Task WriteAsync()
    {
        while (true)
        {
            List<Alert> raised;
            List<WindowResult> closed;
            long through;
            lock (_gate)
            {
                if (_written >= _added)
                {
                    _writing = false;
                    return;
                }

                (raised, closed, through) = (_alerts, _windows, _added);
                (_alerts, _windows) = ([], []);
            }

            try
            {
                if (raised.Count > 0)
                {
                    await alerts.PublishAsync(raised, CancellationToken.None).ConfigureAwait(false);
                    metrics.RecordAlerts(raised.Count);
                }

                if (closed.Count > 0)
                {
                    await windows!.PublishAsync(closed, CancellationToken.None).ConfigureAwait(false);
                    metrics.RecordWindowResults(closed.Count);
                }
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }

            List<TaskCompletionSource> done;
            lock (_gate)
            {
                _written = through;
                done = [.. _waiting.Where(w => w.Through <= through).Select(w => w.Done)];
                _waiting.RemoveAll(w => w.Through <= through);
            }

            foreach (var waiter in done)
            {
                waiter.TrySetResult();
            }
        }
    }

    private void Fail(Exception e)
    {
        List<TaskCompletionSource> waiting;
        lock (_gate)
        {
            _failure = e;
            _writing = false;
            waiting = [.. _waiting.Select(w => w.Done)];
            _waiting.Clear();
        }

        foreach (var waiter in waiting)
        {
            waiter.TrySetException(e);
        }

        failed(e);
    }
}
