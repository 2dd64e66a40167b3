using Confluent.Kafka;
namespace FraudActors.Tooling.Drill;

public sealed record SoakOptions(TimeSpan Duration, double? Rate, double RateShare, TimeSpan SampleEvery, string? JsonFile);

/// <summary>One node at one sample: memory as it stands, GC over the interval since the previous sample; null figures where its API did not answer.</summary>
public sealed record SoakNodeSample(string Node, double? WorkingSetMib, double? GcHeapMib, double? GcHeapAfterCollectionMib, IReadOnlyList<long>? GcCollections, double? GcPauseMs, string? Error);

/// <summary>
/// One sample of a soak: rates over the interval since the previous sample, the group's lag
/// (end offsets minus committed offsets, over all partitions) as it stands, the checkpoints that
/// ended in the interval, every node's memory and GC.
/// </summary>
public sealed record SoakSample(
    int Sample,
    double ElapsedS,
    string At,
    double ProducedPerS,
    double ProcessedPerS,
    long Lag,
    long DroppedByBroker,
    long Checkpoints,
    long FailedCheckpoints,
    double? CheckpointMeanMs,
    double? CheckpointMaxMs,
    IReadOnlyList<SoakNodeSample> Nodes);
