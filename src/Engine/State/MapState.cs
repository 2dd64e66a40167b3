using System.Collections.Immutable;

namespace FraudActors.Engine.State;

/// <summary>
/// A map of a user's values by key (Flink's <c>MapState</c>), e.g. counts or amounts per
/// merchant. Each entry has its own time-to-live, as Flink's MapState does.
/// </summary>
public readonly record struct MapState<TKey, TValue>(ImmutableSortedDictionary<TKey, (TValue Value, long UpdatedAtMs)>? Entries)
    where TKey : notnull
{
    public static MapState<TKey, TValue> Empty => default;

    /// <summary>Keys in a stable order on every machine: strings ordinally, not by culture.</summary>
    internal static ImmutableSortedDictionary<TKey, (TValue Value, long UpdatedAtMs)> NoEntries { get; } =
        ImmutableSortedDictionary.Create<TKey, (TValue, long)>(typeof(TKey) == typeof(string) ? (IComparer<TKey>)(object)StringComparer.Ordinal : Comparer<TKey>.Default);

    public bool IsEmpty => Entries is null || Entries.IsEmpty;

    public int Count => Entries?.Count ?? 0;

    public bool TryGet(TKey key, out TValue value, long nowMs = 0, StateTtl? ttl = null)
    {
        if (Entries is { } entries && entries.TryGetValue(key, out var entry) && !StateTtl.Expired(ttl, entry.UpdatedAtMs, nowMs))
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public TValue Get(TKey key, TValue fallback, long nowMs = 0, StateTtl? ttl = null) =>
        TryGet(key, out var value, nowMs, ttl) ? value : fallback;

    /// <summary>The live entries, in key order.</summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> Items(long nowMs = 0, StateTtl? ttl = null) =>
        (Entries ?? NoEntries)
            .Where(e => !StateTtl.Expired(ttl, e.Value.UpdatedAtMs, nowMs))
            .Select(e => KeyValuePair.Create(e.Key, e.Value.Value));

    public MapState<TKey, TValue> Put(TKey key, TValue value, long nowMs) =>
        new((Entries ?? NoEntries).SetItem(key, (value, nowMs)));

    public MapState<TKey, TValue> Remove(TKey key) => Entries is null ? this : new(Entries.Remove(key));

    public MapState<TKey, TValue> Clear() => Empty;

    /// <summary>Drops each entry whose time-to-live has passed.</summary>
    public MapState<TKey, TValue> Expire(long nowMs, StateTtl? ttl)
    {
        if (ttl is null || Entries is not { } entries)
        {
            return this;
        }

        var expired = entries.Where(e => ttl.IsExpired(e.Value.UpdatedAtMs, nowMs)).Select(e => e.Key).ToList();
        return expired.Count == 0 ? this : new(entries.RemoveRange(expired));
    }
}
