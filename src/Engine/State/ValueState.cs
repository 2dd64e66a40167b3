namespace FraudActors.Engine.State;

/// <summary>
/// One value of a user (Flink's <c>ValueState</c>): a count, a flag, the last time seen.
/// Immutable: every write returns the new state, so a user's whole state stays a value.
/// </summary>
public readonly record struct ValueState<T>(bool HasValue, T Value, long UpdatedAtMs)
{
    public static ValueState<T> Empty => default;

    /// <summary>The value, or <paramref name="fallback"/> when empty or expired.</summary>
    public T Get(T fallback, long nowMs = 0, StateTtl? ttl = null) =>
        HasValue && !StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? Value : fallback;

    public ValueState<T> Update(T value, long nowMs) => new(true, value, nowMs);

    public ValueState<T> Clear() => Empty;

    /// <summary>Drops the value once its time-to-live has passed.</summary>
    public ValueState<T> Expire(long nowMs, StateTtl? ttl) => StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? Empty : this;
}
