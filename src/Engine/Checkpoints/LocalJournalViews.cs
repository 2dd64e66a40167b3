using System.Collections.Concurrent;
using FraudActors.Engine.Checkpoints.Store;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// What a recovered partition journal lets the users of its node read without asking it: the
/// state each user would get from <c>LoadUser</c> (handed over since the last commit, else
/// committed since the store's mark, else the store's), when that is in memory or the user is
/// certainly new (<see cref="KnownUsers"/>). A user that
/// starts on the journal's node takes its state from here at once — no round trip, no stash
/// (docs/design.md, "Cheap user starts"); when the state is only in the store, or elsewhere, or
/// while the journal recovers or restarts, it asks the journal.
/// </summary>
public sealed class JournalView(string journal, PartitionJournalState state, IReadOnlyDictionary<string, byte[]> handedOver, UserStateStores stores, Func<KnownUsers?> known)
{
    /// <summary>
    /// The user's last state as the journal holds it (null: one it has never seen); false when
    /// only the store can tell, which the journal reads without holding up the partition.
    /// </summary>
    public bool TryRead(string userId, out byte[]? userState)
    {
        if (handedOver.TryGetValue(userId, out var handed))
        {
            userState = handed;
            return true;
        }

        if (state.Recent.TryGetValue(userId, out var recent))
        {
            userState = recent.State;
            return true;
        }

        if (state.StoreIsStale)
        {
            userState = null;
            return true;
        }

        if (stores.Store.InMemory)
        {
            userState = stores.Store.ReadNow(journal, userId);
            return true;
        }

        if (stores.Cache.TryGet(journal, userId, out var cached))
        {
            userState = cached;
            return true;
        }

        // Certainly not in the store: a new user, no read needed.
        userState = null;
        return known() is { } users && !users.MightContain(userId);
    }

    /// <summary>The user's last state, or null for one never seen; throws when it is only in the store (tests).</summary>
    public byte[]? Read(string userId) =>
        TryRead(userId, out var userState) ? userState : throw new InvalidOperationException($"{userId}'s state is only in the store: ask the journal");
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
