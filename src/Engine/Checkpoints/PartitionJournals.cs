using System.Collections.Concurrent;
using System.Globalization;
using Akka.Pattern;

namespace FraudActors.Engine.Checkpoints;

/// <summary>Finds the partition journal of a partition.</summary>
public interface IPartitionJournals
{
    IActorRef For(int partition);

    /// <summary>The journals of the partitions this node reads (a stream restart rewinds them).</summary>
    IReadOnlyCollection<IActorRef> Started { get; }

    /// <summary>This node reads <paramref name="partition"/> now: its journal (and users) should run here; completes when they may be used.</summary>
    Task ClaimAsync(int partition) => Task.CompletedTask;

    /// <summary>This node no longer reads <paramref name="partition"/>.</summary>
    void Release(int partition)
    {
    }

    /// <summary>
    /// The journal of <paramref name="partition"/> as this node's users may read it at start, when
    /// it runs recovered on this node; null otherwise (they ask it with <c>LoadUser</c>).
    /// </summary>
    JournalView? LocalView(int partition) => null;
}

/// <summary>
/// This node's partition journals, started on first use as top-level actors named after their
/// persistence id, so that every user of a partition talks to the same one. Each runs under a
/// back-off supervisor: a database error stops a persistent actor, and its checkpoint fails;
/// the journal comes back after a pause, recovers, and the next checkpoint tries again.
/// </summary>
public sealed class PartitionJournals(ActorSystem system, string topic, PartitionJournalSettings settings) : IPartitionJournals
{
    private readonly ConcurrentDictionary<int, Lazy<IActorRef>> _journals = new();
    private readonly LocalJournalViews _views = LocalJournalViews.For(system);

    public IReadOnlyCollection<IActorRef> Started => [.. _journals.Values.Where(j => j.IsValueCreated).Select(j => j.Value)];

    public JournalView? LocalView(int partition) => _views.Find(topic, partition);

    public IActorRef For(int partition) =>
        _journals.GetOrAdd(
            partition,
            p => new Lazy<IActorRef>(() => system.ActorOf(Supervised(topic, p, settings), PartitionJournal.PersistenceIdFor(topic, p)))).Value;

    /// <summary>
    /// A journal under its back-off supervisor; <see cref="StopJournal"/> stops both for good
    /// (after the journal's writes under way), where any other stop brings the journal back.
    /// While it is stopped, an ask fails at once (a rewind, a checkpoint's write) instead of
    /// waiting for its timeout: the stream's restart waits its own back-off and asks again.
    /// </summary>
    internal static Props Supervised(string topic, int partition, PartitionJournalSettings settings) => BackoffSupervisor.Props(
        Backoff.OnStop(
            PartitionJournal.PropsFor(topic, partition, settings),
            "journal",
            minBackoff: MinBackoff,
            maxBackoff: MaxBackoff,
            randomFactor: 0.2,
            maxNrOfRetries: -1)
        .WithFinalStopMessage(message => message is StopJournal)
        .WithReplyWhileStopped(new Status.Failure(new JournalRestartingException(
            string.Create(CultureInfo.InvariantCulture, $"the journal of partition {partition} is restarting after a database error (it retries every {MaxBackoff.TotalSeconds:0} s at most)")))));

    /// <summary>
    /// The longest pause between a journal's attempts to recover from its database: short enough
    /// that the stream resumes soon after the database returns, long enough not to hammer it.
    /// </summary>
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    internal static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);

    /// <summary>How the logs say it: "1 s doubling to 10 s".</summary>
    internal static string DescribeBackoff() =>
        string.Create(CultureInfo.InvariantCulture, $"{MinBackoff.TotalSeconds:0} s doubling to {MaxBackoff.TotalSeconds:0} s");
}
