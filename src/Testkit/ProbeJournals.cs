namespace FraudActors.Testkit;

/// <summary>
/// Partition journals that are one actor, a test's probe: every partition's journal is it, and
/// no journal view is local, so users ask it (<c>LoadUser</c>) and hand their state to it.
/// </summary>
public sealed class ProbeJournals(IActorRef probe) : IPartitionJournals
{
    public IReadOnlyCollection<IActorRef> Started => [probe];

    public IActorRef For(int partition) => probe;
}
