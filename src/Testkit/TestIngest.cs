using Akka.Streams;
using Confluent.Kafka;
using FraudActors.Engine.Composition;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;

namespace FraudActors.Testkit;

/// <summary>
/// A job's ingest as the engine composes it (<see cref="JobPipeline"/>), on a test's actor system (joined to itself by
/// <see cref="OneNodeCluster"/>) and a dev broker: one topic, one consumer group.
/// </summary>
public static class TestIngest
{
    public static async Task<(TransactionIngest Ingest, PartitionJournals Journals)> StartAsync(
        ActorSystem system,
        string bootstrap,
        string topic,
        string group,
        IOutputSink<Alert> alerts,
        IProducer<byte[]?, byte[]> deadLetterProducer,
        CheckpointSettings checkpoints,
        CheckpointHistory history,
        PipelineMetrics metrics)
    {
        var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());
        var users = await OneNodeCluster.StartUsersAsync(system, journals: journals);
        var pipeline = new JobPipeline(users, journals, alerts, new DeadLetterPublisher(deadLetterProducer, topic + ".dlq"), checkpoints, history, metrics, system.Log);
        var ingest = pipeline.Ingest(
            KafkaSourceSettings.Create(
                new ConsumerConfig
                {
                    BootstrapServers = bootstrap,
                    GroupId = group,
                    AutoOffsetReset = AutoOffsetReset.Earliest,
                    SessionTimeoutMs = 6000,
                    AutoCommitIntervalMs = 100,
                },
                topic),
            system.Materializer());
        ingest.Start();
        return (ingest, journals);
    }
}
