namespace FraudActors.Engine.Checkpoints;

public enum CheckpointStatus
{
    Completed,
    Failed,
}

/// <summary>One checkpoint of one partition, as the lecture's Checkpoints tab lists it.</summary>
public sealed record CheckpointRecord(
    long Epoch,
    int Partition,
    DateTimeOffset Started,
    TimeSpan Duration,
    int UsersPersisted,
    long Bytes,
    long NextOffset,
    CheckpointStatus Status,
    string? Failure);

/// <summary>Checkpoint timing and what-if settings, named as Flink names them.</summary>
/// <param name="Interval">Time between checkpoints (<c>checkpoint.interval</c>).</param>
/// <param name="Timeout">How long a checkpoint may take before it fails (<c>checkpoint.timeout</c>).</param>
/// <param name="Retained">How many checkpoint records the history keeps (<c>checkpoint.retained</c>).</param>
/// <param name="MinPause">Least time from the end of one checkpoint to the start of the next (<c>checkpoint.min-pause</c>).</param>
public sealed record CheckpointSettings(TimeSpan Interval, TimeSpan Timeout, int Retained, TimeSpan MinPause = default)
{
    /// <summary>The store's epochs of partition ownership that every checkpoint checks first; null: unfenced (memory store, tests of one pipeline).</summary>
    public PartitionFence? Fence { get; init; }

    public static CheckpointSettings Default { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), 100);
}

/// <summary>
/// The recent checkpoints of this node, newest last; safe to read from any thread. With a log,
/// every record is also written to the database, where <c>fraud checkpoints</c> reads it.
/// </summary>
public sealed class CheckpointHistory(int retained, ICheckpointLog? log = null)
{
    private readonly object _gate = new();
    private readonly Queue<CheckpointRecord> _records = new();
    private long _completed;
    private long _failed;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>When the last checkpoint ended, completed or failed.</summary>
    public DateTimeOffset LastEnded { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>Records a checkpoint; a failure to write the log is reported, never thrown: it is history, not state.</summary>
    public async Task AddAsync(CheckpointRecord record, Action<Exception> onLogFailure)
    {
        Add(record);
        if (log is null)
        {
            return;
        }

        try
        {
            await log.AddAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception first)
        {
            // Once more: after a database restart the pool's idle connections are dead, each
            // failing once; cleared, the pool opens a fresh one.
            Storage.DatabaseError.ClearPoolsAfter(first);
            try
            {
                await log.AddAsync(record, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                onLogFailure(e);
            }
        }
    }

    public void Add(CheckpointRecord record)
    {
        Interlocked.Increment(ref record.Status == CheckpointStatus.Completed ? ref _completed : ref _failed);
        lock (_gate)
        {
            LastEnded = record.Started + record.Duration;
            _records.Enqueue(record);
            while (_records.Count > retained)
            {
                _records.Dequeue();
            }
        }
    }

    public IReadOnlyList<CheckpointRecord> Snapshot()
    {
        lock (_gate)
        {
            return [.. _records];
        }
    }
}
