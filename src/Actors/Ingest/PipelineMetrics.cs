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

    public long RecordsIn => Interlocked.Read(ref _recordsIn);

    public long Applied => Interlocked.Read(ref _applied);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    public long Alerts => Interlocked.Read(ref _alerts);

    /// <summary>Records behind the watermark by more than the allowed lateness (the late side output).</summary>
    public long Late => Interlocked.Read(ref _late);

    public long WindowResults => Interlocked.Read(ref _windowResults);

    internal void RecordIn() => Interlocked.Increment(ref _recordsIn);

    internal void RecordApplied(bool duplicate) => Interlocked.Increment(ref duplicate ? ref _duplicates : ref _applied);

    internal void RecordDeadLettered() => Interlocked.Increment(ref _deadLettered);

    internal void RecordAlert() => Interlocked.Increment(ref _alerts);

    internal void RecordLate() => Interlocked.Increment(ref _late);

    internal void RecordWindowResult() => Interlocked.Increment(ref _windowResults);

    public override string ToString() =>
        $"records={RecordsIn} applied={Applied} duplicates={Duplicates} dead-lettered={DeadLettered} alerts={Alerts} late={Late} window-results={WindowResults}";
}
