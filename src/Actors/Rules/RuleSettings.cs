namespace FraudActors.Actors.Rules;

/// <summary>Which rules run, with their settings; a rule whose entry is null is off.</summary>
public sealed record RuleSettings(VelocitySettings? SlidingVelocity)
{
    public static RuleSettings Default { get; } = new(new VelocitySettings());
}
