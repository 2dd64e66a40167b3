namespace FraudActors.Actors.Ingest;

/// <summary>Running totals of the ingest pipeline, safe to read from any thread.</summary>
public sealed class PipelineMetrics
{
    private long _recordsIn;
    private long _applied;
    private long _duplicates;
    private long _deadLettered;
    private long _alerts;

    public long RecordsIn => Interlocked.Read(ref _recordsIn);

    public long Applied => Interlocked.Read(ref _applied);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    public long Alerts => Interlocked.Read(ref _alerts);

    internal void RecordIn() => Interlocked.Increment(ref _recordsIn);

    internal void RecordApplied(bool duplicate) => Interlocked.Increment(ref duplicate ? ref _duplicates : ref _applied);

    internal void RecordDeadLettered() => Interlocked.Increment(ref _deadLettered);

    internal void RecordAlert() => Interlocked.Increment(ref _alerts);

    public override string ToString() =>
        $"records={RecordsIn} applied={Applied} duplicates={Duplicates} dead-lettered={DeadLettered} alerts={Alerts}";
}
