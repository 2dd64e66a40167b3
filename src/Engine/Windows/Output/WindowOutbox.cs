using Akka.Event;
using Confluent.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows.Output;

/// <summary>
/// Publishes window results once, like alerts (docs/design.md, sections 2 and 4): the pipeline's result
/// goes into the <c>window_results</c> table (a replay inserts nothing) and an
/// <see cref="OutboxPublisher"/> puts each row on its topic — sessions on the sessions topic, every
/// other kind on the counts topic — keyed by user, reconciling with both topics' tails on start.
/// As with alerts, every node inserts and one publishes (<see cref="OutboxSingleton"/>).
/// </summary>
public sealed class WindowOutbox : IWindowResultSink, IOutbox
{
    /// <summary>The header that carries the result id, so a consumer can deduplicate without parsing the value.</summary>
    public const string ResultIdHeader = "result_id";

    private readonly IWindowResultStore _store;
    private readonly string _countsTopic;
    private readonly string _sessionsTopic;
    private readonly OutboxPublisher _publisher;
    private readonly OutboxBell? _bell;

    /// <summary>Told of each result the table did not hold yet, on the node that emitted it.</summary>
    private readonly Action<WindowResult>? _raised;

    public WindowOutbox(
        IWindowResultStore store,
        IProducer<byte[]?, byte[]> producer,
        string bootstrap,
        string countsTopic,
        string sessionsTopic,
        ILoggingAdapter log,
        Action<WindowResult>? raised = null,
        OutboxBell? bell = null,
        IReadOnlyDictionary<string, string>? kafka = null,
        string? transactionalId = null,
        OutboxFence? fence = null)
    {
        _bell = bell;
        _store = store;
        _raised = raised;
        _countsTopic = countsTopic;
        _sessionsTopic = sessionsTopic;
        _publisher = new OutboxPublisher(
            "Window outbox",
            store,
            producer,
            bootstrap,
            [countsTopic, sessionsTopic],
            ResultIdHeader,
            log,
            bell: bell,
            kafka: kafka,
            transactionalId: transactionalId,
            fence: fence);
    }

    /// <summary>Completes when another publisher took the outbox over and this one stopped (see <see cref="OutboxPublisher"/>).</summary>
    public Task Fenced => _publisher.Fenced;

    /// <summary>How many results this outbox put on Kafka (not counting those found there on start).</summary>
    public long Published => _publisher.Published;

    /// <summary>The topic a result goes to.</summary>
    public string TopicFor(WindowResult result) => result.IsSession ? _sessionsTopic : _countsTopic;

    /// <summary>Creates the table; the background loop then reconciles with the topics and publishes.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _publisher.StartAsync(cancellationToken);

    /// <summary>The pipeline's side: the result goes into the table (a replay inserts nothing).</summary>
    public Task PublishAsync(WindowResult result, CancellationToken cancellationToken) => PublishAsync([result], cancellationToken);

    /// <summary>The pipeline's side for a group of records: their results into the table in one insert.</summary>
    public async Task PublishAsync(IReadOnlyList<WindowResult> results, CancellationToken cancellationToken)
    {
        foreach (var result in await _store.AddRangeAsync([.. results.Select(r => (r, TopicFor(r)))], cancellationToken).ConfigureAwait(false))
        {
            _raised?.Invoke(result);
        }

        _publisher.Wake();
        _bell?.Ring();
    }

    /// <summary>Publishes what is left in the table (once reconciled), then stops.</summary>
    public ValueTask DisposeAsync() => _publisher.DisposeAsync();

    public Task CancelAsync() => _publisher.CancelAsync();
}
