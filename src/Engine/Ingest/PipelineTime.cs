using FraudActors.Engine.Outbox;
using FraudActors.Engine.Time;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// The pipeline's time: the characteristic and watermarks, where window results go (the outbox;
/// required when users run windows) and the late side output's topic (null: late records are
/// only counted).
/// </summary>
public sealed record PipelineTime(TimeSettings Settings, IOutputSink<WindowResult>? Windows = null, DeadLetterPublisher? Late = null)
{
    public static PipelineTime Default { get; } = new(TimeSettings.Default);
}
