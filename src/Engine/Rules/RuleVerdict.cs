namespace FraudActors.Engine.Rules;

/// <summary>What a rule says of one transaction: whether it fired, with the count to report.</summary>
public readonly record struct RuleVerdict(bool Fired, int Count)
{
    public static RuleVerdict Quiet => default;
}
