using System.Collections.Concurrent;
using Akka.Actor;

namespace FraudActors.Actors.Checkpoints;

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
/// The views of the partition journals running on this node, by persistence id: registered when
/// a journal has recovered, withdrawn when it stops or restarts. Written by the journals, read by
/// user actors on any thread.
/// </summary>
public sealed class LocalJournalViews : IExtension
{
    private readonly ConcurrentDictionary<string, JournalView> _views = new(StringComparer.Ordinal);

    public static LocalJournalViews For(ActorSystem system) => system.WithExtension<LocalJournalViews, LocalJournalViewsProvider>();

    /// <summary>The view of partition journal <paramref name="persistenceId"/>, when it runs recovered on this node.</summary>
    public JournalView? Find(string persistenceId) => _views.GetValueOrDefault(persistenceId);

    internal void Register(string persistenceId, JournalView view) => _views[persistenceId] = view;

    internal void Withdraw(string persistenceId, JournalView view) =>
        _views.TryRemove(new KeyValuePair<string, JournalView>(persistenceId, view));

    private sealed class LocalJournalViewsProvider : ExtensionIdProvider<LocalJournalViews>
    {
        public override LocalJournalViews CreateExtension(ExtendedActorSystem system) => new();
    }
}
