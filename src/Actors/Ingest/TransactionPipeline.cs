using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Kafka;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;

namespace FraudActors.Actors.Ingest;

/// <param name="Parallelism">Records in flight at once: the bound that makes <c>Tell</c>-style sharding back-pressured.</param>
/// <param name="AskTimeout">How long a user actor may take to apply a record before the stream fails and restarts.</param>
public sealed record PipelineSettings(int Parallelism, TimeSpan AskTimeout, int StoreBatch, TimeSpan StoreInterval)
{
    public static PipelineSettings Default { get; } = new(256, TimeSpan.FromSeconds(30), 1000, TimeSpan.FromMilliseconds(100));
}

/// <summary>
/// The path of a record: Kafka source → parse and validate → the user's actor (or the DLQ) →
/// its alerts published → its offset stored for commit. Ordered, so a partition's offsets are
/// stored in order and a stored offset always means every record before it was handled.
/// </summary>
public sealed class TransactionPipeline(
    IActorRef users,
    TransactionParser parser,
    IAlertSink alerts,
    DeadLetterPublisher deadLetters,
    PipelineSettings settings,
    PipelineMetrics metrics,
    ILoggingAdapter log)
{
    public (IKafkaSourceControl Control, Task Completion) Run(KafkaSourceSettings source, IMaterializer materializer)
    {
        var (control, records) = Source.FromGraph(new KafkaSourceStage(source)).PreMaterialize(materializer);
        var completion = records
            .Collect(IsRecord, e => (KafkaRecord)e)
            .SelectAsync(settings.Parallelism, HandleAsync)
            .GroupedWithin(settings.StoreBatch, settings.StoreInterval)
            .RunForeach(batch => control.StoreOffsets(LatestPerPartition(batch)), materializer);
        return (control, completion);
    }

    /// <summary>Partition changes are logged here; checkpoints will act on them.</summary>
    private bool IsRecord(SourceEvent e)
    {
        switch (e)
        {
            case PartitionsAssigned assigned:
                log.Info("Partitions assigned: {0}", string.Join(", ", assigned.Partitions));
                break;
            case PartitionsRevoked revoked:
                log.Info("Partitions {0}: {1}", revoked.Lost ? "lost" : "revoked", string.Join(", ", revoked.Partitions));
                break;
        }

        return e is KafkaRecord;
    }

    private async Task<TopicPartitionOffset> HandleAsync(KafkaRecord record)
    {
        metrics.RecordIn();
        var outcome = parser.Parse(record.Key, record.Key is not null, record.Value);
        if (!outcome.IsValid)
        {
            await deadLetters.PublishAsync(record, outcome.Reason, outcome.Detail, CancellationToken.None).ConfigureAwait(false);
            metrics.RecordDeadLettered();
            return record.NextOffset;
        }

        var command = new ApplyTransaction(record.Partition, record.Offset, outcome.Transaction!);
        var applied = await users.Ask<TransactionApplied>(command, settings.AskTimeout).ConfigureAwait(false);
        metrics.RecordApplied(applied.Duplicate);
        foreach (var alert in applied.Alerts)
        {
            await alerts.PublishAsync(alert, CancellationToken.None).ConfigureAwait(false);
            metrics.RecordAlert();
        }

        return record.NextOffset;
    }

    private static List<TopicPartitionOffset> LatestPerPartition(IEnumerable<TopicPartitionOffset> handled)
    {
        var latest = new Dictionary<TopicPartition, TopicPartitionOffset>();
        foreach (var next in handled)
        {
            latest[next.TopicPartition] = next;
        }

        return [.. latest.Values];
    }
}
