using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace FraudActors.Engine.Dispatch;

/// <summary>
/// The mailbox of actors that stash — user actors above all: a small ring of envelopes behind a
/// lock, which starts with room for four and doubles when needed. Akka's stash-capable mailbox
/// starts every actor with a 32-slot segment of a concurrent queue (~800 bytes) wrapped with a
/// deque of its own; a user actor, of which a node holds hundreds of thousands, mostly holds one
/// message at a time, and those bytes were a third of a resident user (3,172 → 2,114 bytes) and
/// much of what the garbage collector copied as users started (docs/benchmarks.md, "Engine
/// throughput"). The node's configuration makes it Akka's <c>unbounded-deque-based</c> mailbox
/// (<see cref="Hocon"/>); it keeps the deque semantics the stash needs.
/// </summary>
public sealed class CompactMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<CompactMessageQueue>
{
    /// <summary>The setting that makes it the mailbox of every actor that stashes.</summary>
    public static string Hocon { get; } = $"akka.actor.mailbox.unbounded-deque-based.mailbox-type = \"{typeof(CompactMailbox).FullName}, {typeof(CompactMailbox).Assembly.GetName().Name}\"";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

/// <summary>
/// A ring buffer of envelopes under a lock (the queue itself: one object fewer per actor):
/// enqueue at the tail, dequeue and the stash's prepend at the head. Senders on many threads,
/// one reader at a time (the actor's turn).
/// </summary>
public sealed class CompactMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    private readonly object _gate = new();
    private Envelope[] _ring = new Envelope[4];
    private int _head;
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_gate)
        {
            Grow();
            _ring[(_head + _count) & (_ring.Length - 1)] = envelope;
            _count++;
        }
    }

    public void EnqueueFirst(Envelope envelope)
    {
        lock (_gate)
        {
            Grow();
            _head = (_head - 1) & (_ring.Length - 1);
            _ring[_head] = envelope;
            _count++;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }

            envelope = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) & (_ring.Length - 1);
            _count--;
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }

    private void Grow()
    {
        if (_count < _ring.Length)
        {
            return;
        }

        var larger = new Envelope[_ring.Length * 2];
        for (var i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }

        (_ring, _head) = (larger, 0);
    }
}
