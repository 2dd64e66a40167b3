namespace FraudActors.Engine.Ingest;

/// <summary>Running totals of the ingest pipeline, safe to read from any thread.</summary>
public sealed class PipelineMetrics
{
    private long _recordsIn;
    private long _applied;
    private long _duplicates;
    private long _deadLettered;
    private long _alerts;
    private long _late;
    private long _windowResults;
    private int _checkpointsInProgress;
    private int _restarts;
    private long _lastFailureTicks;
    private long _lastRestartDelayTicks;
    private long _firstRecordOfRunTicks;
    private long _generation;

    public long RecordsIn => Interlocked.Read(ref _recordsIn);

    public long Applied => Interlocked.Read(ref _applied);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    public long Alerts => Interlocked.Read(ref _alerts);

    /// <summary>Records behind the watermark by more than the allowed lateness (the late side output).</summary>
    public long Late => Interlocked.Read(ref _late);

    public long WindowResults => Interlocked.Read(ref _windowResults);

    /// <summary>Partitions cut by the checkpoint under way (0: none is).</summary>
    public int CheckpointsInProgress => Volatile.Read(ref _checkpointsInProgress);

    /// <summary>Runs of the ingest stream that failed and were rewound (restarted from the last checkpoint).</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>When the last run failed (null: none has).</summary>
    public DateTimeOffset? LastFailure => Interlocked.Read(ref _lastFailureTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>The back-off paused before the last restart.</summary>
    public TimeSpan LastRestartDelay => TimeSpan.FromTicks(Interlocked.Read(ref _lastRestartDelayTicks));

    /// <summary>When the current run applied its first record (null: not yet): with <see cref="LastFailure"/>, what a rewind cost.</summary>
    public DateTimeOffset? FirstRecordOfRun => Interlocked.Read(ref _firstRecordOfRunTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>The assigned partitions' offsets and watermarks, and where recent users live.</summary>
    public PartitionPositions Partitions { get; } = new();

    /// <summary>Called with how long each partition journal took to make a checkpoint durable (chunks and commit event).</summary>
    public Action<TimeSpan>? JournalWritten { get; set; }

    /// <summary>Called with each partition's checkpoint as it ends, completed or failed.</summary>
    public Action<Checkpoints.CheckpointRecord>? CheckpointEnded { get; set; }

    /// <summary>Records read, counted once per group of them: no shared counter is touched per record.</summary>
    internal void RecordIn(int records) => Interlocked.Add(ref _recordsIn, records);

    /// <summary>A group's records applied (and read again after a rewind), counted once per group.</summary>
    internal void RecordApplied(int applied, int duplicates, long generation)
    {
        if (duplicates > 0)
        {
            Interlocked.Add(ref _duplicates, duplicates);
        }

        if (applied > 0)
        {
            Interlocked.Add(ref _applied, applied);
            if (Volatile.Read(ref _firstRecordOfRunTicks) == 0 && generation == Interlocked.Read(ref _generation))
            {
                Interlocked.CompareExchange(ref _firstRecordOfRunTicks, DateTimeOffset.UtcNow.UtcTicks, 0);
            }
        }
    }

    /// <summary>A run of the stream starts: its first applied record (not a failed run's last ones) is the one <see cref="FirstRecordOfRun"/> tells.</summary>
    internal void RecordRunStarted(long generation)
    {
        Interlocked.Exchange(ref _generation, generation);
        Interlocked.Exchange(ref _firstRecordOfRunTicks, 0);
    }

    /// <summary>A run failed at <paramref name="failedAt"/>; the next starts after <paramref name="delay"/>.</summary>
    internal void RecordRestart(DateTimeOffset failedAt, TimeSpan delay)
    {
        Interlocked.Exchange(ref _lastFailureTicks, failedAt.UtcTicks);
        Interlocked.Exchange(ref _lastRestartDelayTicks, delay.Ticks);
        Interlocked.Increment(ref _restarts);
    }

    internal void RecordDeadLettered() => Interlocked.Increment(ref _deadLettered);

    internal void RecordAlerts(int count) => Interlocked.Add(ref _alerts, count);

    internal void RecordLate() => Interlocked.Increment(ref _late);

    internal void RecordWindowResults(int count) => Interlocked.Add(ref _windowResults, count);

    internal void RecordCheckpointsInProgress(int partitions) => Volatile.Write(ref _checkpointsInProgress, partitions);

    internal void RecordJournalWrite(TimeSpan took) => JournalWritten?.Invoke(took);

    internal void RecordCheckpoint(Checkpoints.CheckpointRecord record) => CheckpointEnded?.Invoke(record);

    public override string ToString() =>
        $"records={RecordsIn} applied={Applied} duplicates={Duplicates} dead-lettered={DeadLettered} alerts={Alerts} late={Late} window-results={WindowResults} user-records-from-other-nodes={Users.UserTraffic.Remote}/{Users.UserTraffic.Local + Users.UserTraffic.Remote}";
}
