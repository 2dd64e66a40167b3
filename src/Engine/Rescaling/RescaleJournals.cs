using Akka.Configuration;

namespace FraudActors.Engine.Rescaling;

/// <summary>
/// The partition journals of one topic, started in an actor system of their own for an offline
/// rescale: read through <see cref="GetCommittedUsers"/>, rewritten through
/// <see cref="ReplacePartition"/>. Run it only while no node of the job writes to the store.
/// </summary>
public sealed class RescaleJournals(ActorSystem system, string topic, TimeSpan timeout) : IAsyncDisposable
{
    private readonly Dictionary<int, IActorRef> _journals = [];

    /// <summary>An actor system on the store's journal, as the service builds its own (quiet: the tool prints what matters).</summary>
    public static ActorSystem CreateSystem(string store, string connection) =>
        ActorSystem.Create(
            "fraud-rescale",
            ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING").WithFallback(JournalStore.Config(store, connection)));

    /// <summary>What partitions 0 … <paramref name="partitions"/> - 1 hold; a journal that never wrote reads as empty.</summary>
    public async Task<List<JournalContents>> ReadAsync(int partitions)
    {
        var contents = new List<JournalContents>(partitions);
        for (var partition = 0; partition < partitions; partition++)
        {
            var committed = await Journal(partition).Ask<CommittedUsers>(GetCommittedUsers.Instance, timeout).ConfigureAwait(false);
            contents.Add(new JournalContents(partition, committed.Epoch, committed.NextOffset, committed.WatermarkMs, committed.Users));
        }

        return contents;
    }

    /// <summary>
    /// Writes <paramref name="plan"/> in two phases, so that an interruption leaves every user in
    /// at least one journal and a re-run finishes the job: first every partition that gains users
    /// (keeping, for now, those it loses), then every partition that loses users.
    /// </summary>
    /// <returns>The partitions written, in order.</returns>
    public async Task<List<int>> WriteAsync(RescalePlan plan, Action<PartitionTarget, PartitionReplaced>? written = null)
    {
        var order = new List<int>();
        foreach (var target in plan.Partitions.Where(t => !t.Unchanged && (t.Gains || !t.Loses)))
        {
            await ReplaceAsync(plan.Epoch, target, target.Interim ?? target.Users, target.Interim is null ? written : null).ConfigureAwait(false);
            order.Add(target.Partition);
        }

        foreach (var target in plan.Partitions.Where(t => !t.Unchanged && t.Loses))
        {
            await ReplaceAsync(plan.Epoch, target, target.Users, written).ConfigureAwait(false);
            order.Add(target.Partition);
        }

        return order;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var journal in _journals.Values)
        {
            // Stops once its writes are durable; a second journal of the same partition may start after.
            await journal.GracefulStop(timeout, StopJournal.Instance).ConfigureAwait(false);
        }

        _journals.Clear();
    }

    private async Task ReplaceAsync(long epoch, PartitionTarget target, IReadOnlyList<UserSnapshot> users, Action<PartitionTarget, PartitionReplaced>? written)
    {
        var replaced = await Journal(target.Partition)
            .Ask<PartitionReplaced>(new ReplacePartition(epoch, target.NextOffset, users, target.WatermarkMs), timeout)
            .ConfigureAwait(false);
        written?.Invoke(target, replaced);
    }

    private IActorRef Journal(int partition)
    {
        if (!_journals.TryGetValue(partition, out var journal))
        {
            journal = system.ActorOf(PartitionJournal.PropsFor(topic, partition, new PartitionJournalSettings()));
            _journals[partition] = journal;
        }

        return journal;
    }
}
