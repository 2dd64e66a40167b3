using System.Collections.Immutable;

namespace FraudActors.Engine.State;

/// <summary>
/// A list of a user's values (Flink's <c>ListState</c>), e.g. recent timestamps. The time-to-live
/// counts from the last write of the list as a whole.
/// </summary>
public readonly record struct ListState<T>(ImmutableList<T>? Items, long UpdatedAtMs)
{
    public static ListState<T> Empty => default;

    public bool IsEmpty => Items is null || Items.IsEmpty;

    public ImmutableList<T> Get(long nowMs = 0, StateTtl? ttl = null) =>
        Items is { } items && !StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? items : [];

    public ListState<T> Add(T item, long nowMs, StateTtl? ttl = null) => new(Get(nowMs, ttl).Add(item), nowMs);

    public ListState<T> Update(IEnumerable<T> items, long nowMs) => new([.. items], nowMs);

    public ListState<T> Clear() => Empty;

    public ListState<T> Expire(long nowMs, StateTtl? ttl) => StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? Empty : this;
}
