namespace FraudActors.Engine.Outbox;

/// <summary>
/// The cluster's one publisher of the outbox tables, run by Akka's cluster singleton manager on
/// the oldest node. Every node inserts alerts and window results into the shared tables; two
/// publishers would put the same unpublished rows on the topics twice, so only this actor's
/// outboxes publish. A graceful hand-over (<see cref="DrainOutbox"/>, the manager's termination
/// message) publishes what is left before the next node's singleton starts, which reads the
/// topics' tails first, as after a crash; a node downed by the split-brain resolver stops at
/// once without publishing more.
/// </summary>
public sealed class OutboxSingleton : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<IReadOnlyList<IOutbox>> _create;
    private IReadOnlyList<IOutbox> _outboxes = [];
    private bool _ended;

    public OutboxSingleton(Func<IReadOnlyList<IOutbox>> create)
    {
        _create = create;
        Receive<Started>(_ => _log.Info("Outbox: this node publishes the cluster's alerts and window results"));
        Receive<Status.Failure>(failure => throw new InvalidOperationException("outbox publisher did not start", failure.Cause));
        Receive<DrainOutbox>(_ =>
        {
            _ended = true;
            var drained = Task.WhenAll(_outboxes.Select(o => o.DisposeAsync().AsTask()));
            drained.ContinueWith(_ => OutboxDrained.Instance, TaskScheduler.Default).PipeTo(Sender);
            drained.ContinueWith(_ => PoisonPill.Instance, TaskScheduler.Default).PipeTo(Self);
        });
    }

    public static Props PropsFor(Func<IReadOnlyList<IOutbox>> create) => Props.Create(() => new OutboxSingleton(create));

    protected override void PreStart()
    {
        _outboxes = _create();
        Task.WhenAll(_outboxes.Select(o => o.StartAsync(CancellationToken.None)))
            .PipeTo(Self, success: () => Started.Instance, failure: e => new Status.Failure(e));
    }

    /// <summary>Stopped without a hand-over (the node was downed, or its system is terminating): publish nothing more.</summary>
    protected override void PostStop()
    {
        if (!_ended)
        {
            _ended = true;
            foreach (var outbox in _outboxes)
            {
                _ = outbox.CancelAsync();
            }
        }
    }

    /// <summary>Piped to itself: never leaves the node.</summary>
    private sealed record Started : INoSerializationVerificationNeeded
    {
        public static Started Instance { get; } = new();
    }
}

/// <summary>Publish what is left of the outbox tables, then stop (a graceful hand-over or stop).</summary>
public sealed record DrainOutbox
{
    public static DrainOutbox Instance { get; } = new();
}

/// <summary>Reply to <see cref="DrainOutbox"/>: the outboxes published what they could, and stopped.</summary>
public sealed record OutboxDrained
{
    public static OutboxDrained Instance { get; } = new();
}
