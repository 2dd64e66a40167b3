using FraudActors.Engine.Time;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// One partition's event-time clock in a running pipeline and the index of when its users next
/// need waking (Flink's timer queue, one entry per user: its earliest timer or window end).
/// The watermark moves only at the stream's turn; the index is updated also by users' replies,
/// so it is guarded. A user reports its next timer only when it is earlier than what the index
/// already wakes it by (docs/design.md, "Timers without a reply per record").
/// <see cref="Given"/> is the highest clock value handed to users: what a checkpoint records and
/// a restart resumes from.
/// </summary>
internal sealed class PartitionClock(PartitionWatermark watermark, long given)
{
    private static readonly Comparer<(long Due, string User)> ByDue =
        Comparer<(long Due, string User)>.Create((a, b) => a.Due != b.Due ? a.Due.CompareTo(b.Due) : string.CompareOrdinal(a.User, b.User));

    private readonly object _gate = new();
    private readonly SortedSet<(long Due, string User)> _queue = new(ByDue);
    private readonly Dictionary<string, long> _dueOf = new(StringComparer.Ordinal);

    public PartitionWatermark Watermark { get; set; } = watermark;

    public long Given { get; private set; } = given;

    /// <summary>Raises <see cref="Given"/>; false when the clock did not move.</summary>
    public bool Advance(long clockMs)
    {
        if (clockMs <= Given)
        {
            return false;
        }

        Given = clockMs;
        return true;
    }

    /// <summary>
    /// Makes sure <paramref name="user"/> is woken by <paramref name="dueMs"/> (null: nothing to
    /// add). An entry only ever moves earlier: replies of one user may be handled out of the order
    /// it sent them, and waking a user early is harmless (it fires nothing and answers its real
    /// next timer), where waking it late would fire a window or timer late. A user's entry leaves
    /// only when it is taken to be woken, and its answer to that wake puts it back.
    /// </summary>
    public void WakeBy(string user, long? dueMs)
    {
        if (dueMs is not { } due)
        {
            return;
        }

        lock (_gate)
        {
            if (_dueOf.TryGetValue(user, out var old))
            {
                if (old <= due)
                {
                    return;
                }

                _queue.Remove((old, user));
            }

            _dueOf[user] = due;
            _queue.Add((due, user));
        }
    }

    /// <summary>Takes every user due at or before <paramref name="clockMs"/>, earliest first; each must be woken, and its answer indexes it again.</summary>
    public List<string> TakeDue(long clockMs)
    {
        var due = new List<string>();
        lock (_gate)
        {
            while (_queue.Count > 0 && _queue.Min.Due <= clockMs)
            {
                var (_, user) = _queue.Min;
                _queue.Remove(_queue.Min);
                _dueOf.Remove(user);
                due.Add(user);
            }
        }

        return due;
    }
}
