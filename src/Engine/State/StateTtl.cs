namespace FraudActors.Engine.State;

/// <summary>
/// Time-to-live of keyed state (Flink's <c>StateTtlConfig</c> with "on create and write"):
/// state not written for <see cref="TimeToLive"/> reads as empty and is dropped by the next
/// cleanup, so idle users' state does not stay forever. Time is milliseconds of whichever clock
/// the rule uses (event time by default).
/// </summary>
public sealed record StateTtl(TimeSpan TimeToLive)
{
    /// <summary>Whether state last written at <paramref name="updatedAtMs"/> is expired at <paramref name="nowMs"/>.</summary>
    public bool IsExpired(long updatedAtMs, long nowMs) => nowMs - updatedAtMs > (long)TimeToLive.TotalMilliseconds;

    /// <summary>No TTL: state lives until cleared.</summary>
    public static bool Expired(StateTtl? ttl, long updatedAtMs, long nowMs) => ttl is not null && ttl.IsExpired(updatedAtMs, nowMs);
}
