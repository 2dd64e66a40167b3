using Akka.Streams;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Composition;

/// <summary>
/// What a job's record path is made of: the users and their partition journals, where alerts and
/// dead letters go, and the checkpoint settings. The one place that puts a
/// <see cref="TransactionPipeline"/> together; the node, the bench and the tests all build theirs here.
/// </summary>
public sealed record JobPipeline(
    IActorRef Users,
    IPartitionJournals Journals,
    IOutputSink<Alert> Alerts,
    DeadLetterPublisher DeadLetters,
    CheckpointSettings Checkpoints,
    CheckpointHistory History,
    PipelineMetrics Metrics,
    ILoggingAdapter Log)
{
    public TransactionParser Parser { get; init; } = new();

    public PipelineSettings Settings { get; init; } = PipelineSettings.Default;

    /// <summary>Event time, windows and late records; null: processing time without windows.</summary>
    public PipelineTime? Time { get; init; }

    /// <summary>The node's rules as the <c>rules</c> topic sets them; null: the users' configured rules, never changed.</summary>
    public Rules.RulesBoard? Rules { get; init; }

    /// <summary>The pipeline, to run over a source of the caller's.</summary>
    public TransactionPipeline Build() =>
        new(Users, Journals, Parser, Alerts, DeadLetters, Settings, Checkpoints, History, Metrics, Log, Time, Rules);

    /// <summary>
    /// The pipeline over a Kafka source, rewound and restarted in place on failures (not started yet).
    /// <paramref name="storeAnswers"/> probes the store before a restart (null: no store to wait for).
    /// </summary>
    public TransactionIngest Ingest(KafkaSourceSettings source, IMaterializer materializer, Func<Task>? storeAnswers = null) =>
        new(Build(), Journals, source, materializer, Log, storeAnswers) { StartAfter = Rules?.Loaded };
}
