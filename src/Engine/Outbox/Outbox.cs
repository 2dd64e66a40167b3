using Confluent.Kafka;

namespace FraudActors.Engine.Outbox;

/// <summary>
/// Publishes an outbox table to its topics, each record once (docs/design.md, section 4, step 6),
/// whatever the kind (<see cref="OutboxCodec{T}"/>: alerts to the alerts topic, window results to
/// the counts or sessions topic). The pipeline's records go into the table, where a replay inserts
/// nothing; an <see cref="OutboxPublisher"/> puts the rows on the topics in insertion order with
/// an idempotent producer and marks them published after their delivery; on start the topics'
/// tails are read and what is found there is marked before more is published. Every node inserts
/// (the pipeline's side); only the started instance publishes, and in a cluster one is started,
/// by <see cref="OutboxSingleton"/>.
/// </summary>
public sealed class Outbox<T> : IOutputSink<T>, IOutbox
{
    private readonly IOutboxTable<T> _table;
    private readonly OutboxPublisher _publisher;
    private readonly OutboxBell? _bell;

    /// <summary>Told of each record the table did not hold yet (the console's ALERT line), on the node that raised it.</summary>
    private readonly Action<T>? _raised;

    /// <param name="bell">Shared by this node's outboxes of the table: an insert wakes the publisher when it runs here.</param>
    /// <param name="kafka">librdkafka properties of the clients that read the tails (security: TLS, SASL).</param>
    /// <param name="transactionalId">When set, each batch is a Kafka transaction of a producer with this id.</param>
    /// <param name="fence">When set, the publisher takes the outbox's next epoch in the store and stops, fenced, once another took a newer one.</param>
    public Outbox(
        IOutboxTable<T> table,
        IProducer<byte[]?, byte[]> producer,
        string bootstrap,
        ILoggingAdapter log,
        Action<T>? raised = null,
        OutboxBell? bell = null,
        IReadOnlyDictionary<string, string>? kafka = null,
        string? transactionalId = null,
        OutboxFence? fence = null)
    {
        _table = table;
        _bell = bell;
        _raised = raised;
        _publisher = new OutboxPublisher(
            table.Codec.Name,
            table,
            producer,
            bootstrap,
            table.Codec.Topics,
            table.Codec.IdHeader,
            log,
            bell: bell,
            kafka: kafka,
            transactionalId: transactionalId,
            fence: fence);
    }

    /// <summary>Completes when another publisher took the outbox over and this one stopped (see <see cref="OutboxPublisher"/>).</summary>
    public Task Fenced => _publisher.Fenced;

    /// <summary>Completes once the publisher took its epoch (and transactional id) and read the topics' tails.</summary>
    public Task Reconciled => _publisher.Reconciled;

    /// <summary>How many records this outbox put on Kafka (not counting those found there on start).</summary>
    public long Published => _publisher.Published;

    /// <summary>Creates the table; the background loop then reconciles with the topics and publishes.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _publisher.StartAsync(cancellationToken);

    /// <summary>The pipeline's side: the record goes into the table (a replay inserts nothing).</summary>
    public Task PublishAsync(T output, CancellationToken cancellationToken) => PublishAsync([output], cancellationToken);

    /// <summary>The pipeline's side for a group of records: their outputs into the table in one insert.</summary>
    public async Task PublishAsync(IReadOnlyList<T> outputs, CancellationToken cancellationToken)
    {
        foreach (var output in await _table.AddRangeAsync(outputs, cancellationToken).ConfigureAwait(false))
        {
            _raised?.Invoke(output);
        }

        _publisher.Wake();
        _bell?.Ring();
    }

    /// <summary>Publishes what is left in the table (once reconciled), then stops.</summary>
    public ValueTask DisposeAsync() => _publisher.DisposeAsync();

    public Task CancelAsync() => _publisher.CancelAsync();
}
