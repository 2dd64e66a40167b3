using System.Collections.Concurrent;
using Akka.Actor;

namespace FraudActors.Actors.Checkpoints;

/// <summary>Finds the partition journal of a partition.</summary>
public interface IPartitionJournals
{
    IActorRef For(int partition);

    /// <summary>The journals started so far.</summary>
    IReadOnlyCollection<IActorRef> Started { get; }
}

/// <summary>
/// This node's partition journals, started on first use as top-level actors named after their
/// persistence id, so that every user of a partition talks to the same one.
/// </summary>
public sealed class PartitionJournals(ActorSystem system, string topic, PartitionJournalSettings settings) : IPartitionJournals
{
    private readonly ConcurrentDictionary<int, Lazy<IActorRef>> _journals = new();

    public IReadOnlyCollection<IActorRef> Started => [.. _journals.Values.Where(j => j.IsValueCreated).Select(j => j.Value)];

    public IActorRef For(int partition) =>
        _journals.GetOrAdd(
            partition,
            p => new Lazy<IActorRef>(() => system.ActorOf(PartitionJournal.PropsFor(topic, p, settings), PartitionJournal.PersistenceIdFor(topic, p)))).Value;
}
