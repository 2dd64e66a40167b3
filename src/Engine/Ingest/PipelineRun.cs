using FraudActors.Engine.Kafka;

namespace FraudActors.Engine.Ingest;

/// <summary>A running pipeline: its Kafka source, a way to ask for a checkpoint now, and its completion.</summary>
public sealed record PipelineRun(IKafkaSourceControl Control, Func<Task> CheckpointNow, Task Completion);
