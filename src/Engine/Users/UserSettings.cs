using FraudActors.Engine.Rules;
using FraudActors.Engine.State;
using FraudActors.Engine.Windows;

namespace FraudActors.Engine.Users;

/// <summary>What a user actor runs: its rules, its windows, how long idle state lives, and how long a <c>tx_id</c> is remembered.</summary>
/// <param name="DedupWindow">
/// A record whose <c>tx_id</c> the user applied within this much of its time (event time, or
/// processing time in that mode) is a duplicate: applied to nothing, sent to the dead-letter
/// topic. Null: no deduplication. Records without a <c>tx_id</c> are never duplicates.
/// </param>
public sealed record UserSettings(RuleSettings Rules, WindowSettings? Windows = null, StateTtl? Ttl = null, TimeSpan? DedupWindow = null)
{
    public static UserSettings Default { get; } = new(RuleSettings.Default);

    public static implicit operator UserSettings(RuleSettings rules) => new(rules);
}
