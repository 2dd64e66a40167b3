using FraudActors.Actors.Rules;
using FraudActors.Actors.State;
using FraudActors.Actors.Windows;

namespace FraudActors.Actors.Users;

/// <summary>What a user actor runs: its rules, its windows, and how long idle state lives.</summary>
public sealed record UserSettings(RuleSettings Rules, WindowSettings? Windows = null, StateTtl? Ttl = null)
{
    public static UserSettings Default { get; } = new(RuleSettings.Default);

    public static implicit operator UserSettings(RuleSettings rules) => new(rules);
}
