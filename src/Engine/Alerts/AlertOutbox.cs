using Akka.Event;
using Confluent.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Alerts;

/// <summary>
/// Publishes the alerts table to the alerts topic, each alert once (docs/design.md, section 4, step 6),
/// through an <see cref="OutboxPublisher"/>: rows go out in insertion order with an idempotent
/// producer and are marked published after their delivery; on start the topic's tail is read and
/// what is found there is marked before more is published. Every node inserts (the pipeline's
/// side); only the started instance publishes, and in a cluster one is started, by
/// <see cref="OutboxSingleton"/>.
/// </summary>
public sealed class AlertOutbox : IAlertSink, IOutbox
{
    /// <summary>The header that carries the alert id, so a consumer can deduplicate without parsing the value.</summary>
    public const string AlertIdHeader = "alert_id";

    public const int BatchSize = OutboxPublisher.BatchSize;

    private readonly IAlertStore _store;
    private readonly OutboxPublisher _publisher;
    private readonly OutboxBell? _bell;

    /// <summary>Told of each alert the table did not hold yet (the console's ALERT line), on the node that raised it.</summary>
    private readonly Action<Alert>? _raised;

    public AlertOutbox(
        IAlertStore store,
        IProducer<byte[]?, byte[]> producer,
        string bootstrap,
        string topic,
        ILoggingAdapter log,
        Action<Alert>? raised = null,
        OutboxBell? bell = null,
        IReadOnlyDictionary<string, string>? kafka = null,
        string? transactionalId = null,
        OutboxFence? fence = null)
    {
        _bell = bell;
        _store = store;
        _raised = raised;
        _publisher = new OutboxPublisher(
            "Alert outbox",
            new AlertRows(store, topic),
            producer,
            bootstrap,
            [topic],
            AlertIdHeader,
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

    public long Published => _publisher.Published;

    /// <summary>Creates the table; the background loop then reconciles with the topic and publishes.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _publisher.StartAsync(cancellationToken);

    /// <summary>The pipeline's side: the alert goes into the table (a replay inserts nothing).</summary>
    public Task PublishAsync(Alert alert, CancellationToken cancellationToken) => PublishAsync([alert], cancellationToken);

    /// <summary>The pipeline's side for a group of records: their alerts into the table in one insert.</summary>
    public async Task PublishAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        foreach (var alert in await _store.AddRangeAsync(alerts, cancellationToken).ConfigureAwait(false))
        {
            _raised?.Invoke(alert);
        }

        _publisher.Wake();
        _bell?.Ring();
    }

    /// <summary>Publishes what is left in the table (once reconciled), then stops.</summary>
    public ValueTask DisposeAsync() => _publisher.DisposeAsync();

    public Task CancelAsync() => _publisher.CancelAsync();

    /// <summary>The alerts table as outbox rows: every alert goes to the one alerts topic, keyed by its user.</summary>
    private sealed class AlertRows(IAlertStore store, string topic) : IOutboxStore
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public async Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken) =>
            [.. (await store.UnpublishedAsync(limit, cancellationToken).ConfigureAwait(false))
                .Select(a => new OutboxRow(a.Seq, a.AlertId, topic, a.UserId, a.Payload))];

        public Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
            store.MarkPublishedAsync(ids, cancellationToken);
    }
}
