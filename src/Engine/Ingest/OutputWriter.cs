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

    /// <summary>
    /// Per partition, the offsets from which rules not yet recorded by a commit apply, and the
    /// alerts of records at or past the first of them, kept back until a commit records those
    /// rules (docs/design.md, "Dynamic rules"): a replay must not find in the table an alert its
    /// rules would not raise.
    /// </summary>
    private readonly Dictionary<int, (SortedSet<long> From, List<Alert> Alerts)> _held = [];

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
            if (raised is { Count: > 0 } && _held.Count > 0)
            {
                raised = Hold(raised);
            }

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

    /// <summary>
    /// From <paramref name="offset"/> on, <paramref name="partition"/> applies rules no commit
    /// records yet: its alerts from there wait for <see cref="Recorded"/>. Called at the
    /// stream's turn, before any record at that offset is sent.
    /// </summary>
    public void HoldFrom(int partition, long offset)
    {
        lock (_gate)
        {
            if (!_held.TryGetValue(partition, out var held))
            {
                _held[partition] = held = (new SortedSet<long>(), []);
            }

            held.From.Add(offset);
        }
    }

    /// <summary>
    /// A commit of <paramref name="partition"/> recorded the rules in force from
    /// <paramref name="offset"/>: the alerts held for them (and earlier ones) are written; those
    /// of rules adopted later still wait.
    /// </summary>
    public void Recorded(int partition, long offset)
    {
        List<Alert> released;
        lock (_gate)
        {
            if (!_held.TryGetValue(partition, out var held))
            {
                return;
            }

            held.From.RemoveWhere(from => from <= offset);
            if (held.From.Count == 0)
            {
                _held.Remove(partition);
                released = held.Alerts;
            }
            else
            {
                var next = held.From.Min;
                released = [.. held.Alerts.Where(a => a.Offset < next)];
                held.Alerts.RemoveAll(a => a.Offset < next);
            }
        }

        Add(released, null);
    }

    /// <summary>
    /// The partition left this node, or arrives again: what was held for it goes. Those alerts
    /// belong to records after its last commit (a commit that recorded their rules released
    /// them), which its next owner reads again; a hold left behind would keep every later
    /// alert of the partition back.
    /// </summary>
    public void Forget(int partition)
    {
        lock (_gate)
        {
            _held.Remove(partition);
        }
    }

    /// <summary>The alerts that may be written now; the others are kept in <see cref="_held"/>.</summary>
    private List<Alert> Hold(IReadOnlyList<Alert> raised)
    {
        var free = new List<Alert>(raised.Count);
        foreach (var alert in raised)
        {
            if (_held.TryGetValue(alert.Partition, out var held) && alert.Offset >= held.From.Min)
            {
                held.Alerts.Add(alert);
            }
            else
            {
                free.Add(alert);
            }
        }

        return free;
    }

    /// <summary>Alerts held for rules no commit records yet.</summary>
    public int HeldAlerts
    {
        get
        {
            lock (_gate)
            {
                return _held.Values.Sum(h => h.Alerts.Count);
            }
        }
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
