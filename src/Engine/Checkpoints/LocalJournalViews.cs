using System.Collections.Concurrent;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// What a recovered partition journal lets the users of its node read without asking it: the
/// state each user would get from <c>LoadUser</c> (handed over since the last commit, else the
/// last commit). A user that starts on the journal's node takes its state from here at once — no
/// round trip, no stash (docs/design.md, "Cheap user starts"); elsewhere, or while the journal
/// recovers or restarts, it asks the journal as before.
/// </summary>
public sealed class JournalView(IReadOnlyDictionary<string, byte[]> committed, IReadOnlyDictionary<string, byte[]> handedOver)
{
    /// <summary>The user's last state as the journal holds it; null for a user it has never seen.</summary>
    public byte[]? Read(string userId) =>
        handedOver.TryGetValue(userId, out var handed) ? handed : committed.GetValueOrDefault(userId);
}

/// <summary>
/// The views of the partition journals running on this node, by topic and partition: registered
/// when a journal has recovered, withdrawn when it stops or restarts. Written by the journals,
/// read by user actors on any thread (a lookup per user start, so no key string is built).
/// </summary>
public sealed class LocalJournalViews : IExtension
{
    private readonly ConcurrentDictionary<(string Topic, int Partition), JournalView> _views = new();

    public static LocalJournalViews For(ActorSystem system) => system.WithExtension<LocalJournalViews, LocalJournalViewsProvider>();

    /// <summary>The view of the journal of <paramref name="topic"/>'s <paramref name="partition"/>, when it runs recovered on this node.</summary>
    public JournalView? Find(string topic, int partition) => _views.GetValueOrDefault((topic, partition));

    internal void Register(string topic, int partition, JournalView view) => _views[(topic, partition)] = view;

    internal void Withdraw(string topic, int partition, JournalView view) =>
        _views.TryRemove(new KeyValuePair<(string, int), JournalView>((topic, partition), view));

    private sealed class LocalJournalViewsProvider : ExtensionIdProvider<LocalJournalViews>
    {
        public override LocalJournalViews CreateExtension(ExtendedActorSystem system) => new();
    }
}
