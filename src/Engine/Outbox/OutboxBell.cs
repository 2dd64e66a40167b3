namespace FraudActors.Engine.Outbox;

/// <summary>
/// Wakes the publisher of an outbox table on this node as soon as a row is inserted, instead of
/// on its next poll. A node's pipeline inserts through outbox objects of its own, while the
/// cluster's publisher is another instance (the singleton's, started anew on each hand-over):
/// the two share a bell. Publishers on other nodes still find the rows on their poll.
/// </summary>
public sealed class OutboxBell
{
    private readonly Lock _gate = new();
    private Action? _listeners;

    /// <summary>Rows were added: every publisher listening here publishes without waiting for its poll.</summary>
    public void Ring() => Volatile.Read(ref _listeners)?.Invoke();

    internal void Listen(Action wake)
    {
        lock (_gate)
        {
            _listeners += wake;
        }
    }

    internal void Ignore(Action wake)
    {
        lock (_gate)
        {
            _listeners -= wake;
        }
    }
}
