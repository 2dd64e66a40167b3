namespace FraudActors.Engine.State;

/// <summary>
/// A value folded from everything added to it (Flink's <c>ReducingState</c>): each add combines
/// the new value with the current one by the rule's reduce function — a running sum, a minimum,
/// or <see cref="RunningStats"/> for sum, min, max and average at once.
/// </summary>
public readonly record struct ReducingState<T>(bool HasValue, T Value, long UpdatedAtMs)
{
    public static ReducingState<T> Empty => default;

    public T Get(T fallback, long nowMs = 0, StateTtl? ttl = null) =>
        HasValue && !StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? Value : fallback;

    public ReducingState<T> Add(T value, Func<T, T, T> reduce, long nowMs, StateTtl? ttl = null) =>
        HasValue && !StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? new(true, reduce(Value, value), nowMs) : new(true, value, nowMs);

    public ReducingState<T> Clear() => Empty;

    public ReducingState<T> Expire(long nowMs, StateTtl? ttl) => StateTtl.Expired(ttl, UpdatedAtMs, nowMs) ? Empty : this;
}

/// <summary>Count, sum, minimum and maximum of amounts, reducible: the usual reducing state of a fraud rule.</summary>
public readonly record struct RunningStats(long Count, decimal Sum, decimal Min, decimal Max)
{
    public decimal Average => Count == 0 ? 0 : Sum / Count;

    public static RunningStats Of(decimal amount) => new(1, amount, amount, amount);

    public static RunningStats Combine(RunningStats a, RunningStats b) =>
        new(a.Count + b.Count, Amounts.Add(a.Sum, b.Sum), Math.Min(a.Min, b.Min), Math.Max(a.Max, b.Max));
}
