using FraudActors.Engine.Kafka;

namespace FraudActors.Engine.Ingest;

/// <summary>Time to look at the partitions' clocks: idle watermarks, processing time, late wake-ups.</summary>
public sealed record ClockTick : SourceEvent
{
    public static ClockTick Instance { get; } = new();
}
