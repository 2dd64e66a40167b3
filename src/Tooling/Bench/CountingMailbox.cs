using System.Runtime.InteropServices;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Akka's unbounded mailbox, counting every message enqueued into <see cref="ActorMessageCount"/>.
/// <see cref="Hocon"/> makes it every actor's mailbox in a bench's actor system: the default
/// mailbox, and the mappings that actors requiring a queue type are given instead (sharding's
/// shards and coordinator, persistent and stashing actors such as the user actor, take the
/// unbounded deque; the guardians the unbounded queue).
/// </summary>
/// <remarks>
/// Only what goes through a mailbox counts: system messages (watch, terminate) have their own
/// queue, and a reply to a temporary or minimal ref (an <c>Ask</c>'s promise, the pipeline's
/// reply targets) reaches no mailbox. A message a stash puts back is not counted again.
/// </remarks>
public sealed class CountingMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<CountingMessageQueue>
{
    /// <summary>HOCON that puts the counting mailboxes under every actor of a system.</summary>
    public static string Hocon { get; } = $"""
        akka.actor.default-mailbox.mailbox-type = "{TypeName<CountingMailbox>()}"
        akka.actor.mailbox.unbounded-queue-based.mailbox-type = "{TypeName<CountingMailbox>()}"
        akka.actor.mailbox.unbounded-deque-based.mailbox-type = "{TypeName<CountingDequeMailbox>()}"
        """;

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CountingMessageQueue();

    private static string TypeName<T>() => typeof(T).FullName + ", " + typeof(T).Assembly.GetName().Name;
}

/// <summary>The deque-based variant of <see cref="CountingMailbox"/>, for actors that stash.</summary>
public sealed class CountingDequeMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<CountingDequeMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CountingDequeMessageQueue();
}

/// <summary>Akka's unbounded queue, counting what is enqueued.</summary>
public sealed class CountingMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly UnboundedMessageQueue _queue = new();

    public bool HasMessages => _queue.HasMessages;

    public int Count => _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        ActorMessageCount.Increment();
        _queue.Enqueue(receiver, envelope);
    }

    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters) => _queue.CleanUp(owner, deadletters);
}

/// <summary>The node's compact queue, counting: what is enqueued counts, what a stash puts back in front does not.</summary>
public sealed class CountingDequeMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    private readonly Engine.Dispatch.CompactMessageQueue _queue = new();

    public bool HasMessages => _queue.HasMessages;

    public int Count => _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        ActorMessageCount.Increment();
        _queue.Enqueue(receiver, envelope);
    }

    /// <summary>A stashed message put back: not a message sent, so not counted.</summary>
    public void EnqueueFirst(Envelope envelope) => _queue.EnqueueFirst(envelope);

    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters) => _queue.CleanUp(owner, deadletters);
}

/// <summary>
/// Messages enqueued into counting mailboxes since the process started, in every system that
/// uses them. A cell per thread, so a mailbox's count is a plain increment of memory no other
/// thread writes (a shared interlocked counter, bounced between cores several times a record,
/// would cost what it measures).
/// </summary>
public static class ActorMessageCount
{
    private static readonly List<Cell> Cells = [];

    [ThreadStatic]
    private static Cell? _cell;

    /// <summary>The sum over every thread's cell; exact once the counted work has finished.</summary>
    public static long Total
    {
        get
        {
            lock (Cells)
            {
                return Cells.Sum(c => Volatile.Read(ref c.Value));
            }
        }
    }

    internal static void Increment() => (_cell ?? Register()).Value++;

    private static Cell Register()
    {
        var cell = new Cell();
        lock (Cells)
        {
            Cells.Add(cell);
        }

        _cell = cell;
        return cell;
    }

    /// <summary>One thread's count, 64 bytes into the object: two threads' counts never share a cache line.</summary>
    [StructLayout(LayoutKind.Explicit)]
    private sealed class Cell
    {
        [FieldOffset(64)]
        public long Value;
    }
}

/// <summary>The dispatch work of a run: actor messages enqueued in counting mailboxes, thread-pool work items completed.</summary>
public readonly record struct DispatchCounts(long ActorMessages, long ThreadPoolItems)
{
    public static DispatchCounts Now() => new(ActorMessageCount.Total, ThreadPool.CompletedWorkItemCount);

    public DispatchCounts Since(DispatchCounts start) => new(ActorMessages - start.ActorMessages, ThreadPoolItems - start.ThreadPoolItems);

    public double ActorMessagesPer(int records) => ActorMessages / (double)records;

    public double ThreadPoolItemsPer(int records) => ThreadPoolItems / (double)records;
}
