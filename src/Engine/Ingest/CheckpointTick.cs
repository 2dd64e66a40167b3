using FraudActors.Engine.Kafka;

namespace FraudActors.Engine.Ingest;

/// <summary>Time for a checkpoint: merged into the record stream, it becomes the barrier.</summary>
public sealed record CheckpointTick : SourceEvent
{
    /// <summary>The interval's tick: skipped while a checkpoint is under way or within min-pause of the last one.</summary>
    public static CheckpointTick Periodic { get; } = new();

    /// <summary>The stop's tick (stop-with-savepoint): always cuts.</summary>
    public static CheckpointTick Final { get; } = new() { IsFinal = true };

    /// <summary>The rules changed: cuts at once unless a checkpoint is under way (min-pause aside), so the change takes effect soon.</summary>
    public static CheckpointTick RulesChanged { get; } = new() { ForRules = true };

    public bool IsFinal { get; private init; }

    public bool ForRules { get; private init; }
}
