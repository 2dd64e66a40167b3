using FraudActors.Engine.State;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Users;

/// <summary>
/// What every user's actor keeps of its user beyond the rules, in Flink's keyed-state kinds:
/// transactions per merchant (map state), the running sum, minimum, maximum and average amount
/// (reducing state) and when the user was last seen (value state). All of it carries the
/// configured time-to-live, so an idle user's profile is cleaned up.
/// </summary>
public readonly record struct UserProfile(
    MapState<string, long> MerchantCounts,
    ReducingState<RunningStats> Amounts,
    ValueState<long> LastSeenMs)
{
    public bool IsEmpty => MerchantCounts.IsEmpty && !Amounts.HasValue && !LastSeenMs.HasValue;

    public UserProfile Add(Transaction transaction, long timeMs, StateTtl? ttl)
    {
        var merchant = transaction.Merchant ?? string.Empty;
        return new UserProfile(
            MerchantCounts.Expire(timeMs, ttl).Put(merchant, MerchantCounts.Get(merchant, 0, timeMs, ttl) + 1, timeMs),
            Amounts.Add(RunningStats.Of(transaction.Amount), RunningStats.Combine, timeMs, ttl),
            LastSeenMs.Update(Math.Max(LastSeenMs.Get(timeMs), timeMs), timeMs));
    }

    /// <summary>Drops what the time-to-live has expired at <paramref name="nowMs"/>.</summary>
    public UserProfile Expire(long nowMs, StateTtl? ttl) =>
        new(MerchantCounts.Expire(nowMs, ttl), Amounts.Expire(nowMs, ttl), LastSeenMs.Expire(nowMs, ttl));
}
