namespace FraudActors.Actors.Ingest;

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

    /// <summary>The assigned partitions' offsets and watermarks, and where recent users live.</summary>
    public PartitionPositions Partitions { get; } = new();

    /// <summary>Called with how long each partition journal took to make a checkpoint durable (chunks and commit event).</summary>
    public Action<TimeSpan>? JournalWritten { get; set; }

    /// <summary>Called with each partition's checkpoint as it ends, completed or failed.</summary>
    public Action<Checkpoints.CheckpointRecord>? CheckpointEnded { get; set; }

    internal void RecordIn() => Interlocked.Increment(ref _recordsIn);

    internal void RecordApplied(bool duplicate) => Interlocked.Increment(ref duplicate ? ref _duplicates : ref _applied);

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
