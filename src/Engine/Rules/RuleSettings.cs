namespace FraudActors.Engine.Rules;

/// <summary>The rules that run, in name order; each alert names its rule.</summary>
public sealed record RuleSettings(IReadOnlyList<IFraudRule> Rules)
{
    /// <summary>Only sliding-velocity with the given settings (none when null): the shape most tests want.</summary>
    public RuleSettings(VelocitySettings? SlidingVelocity)
        : this(SlidingVelocity is null ? [] : [new SlidingVelocityRule(SlidingVelocity)])
    {
    }

    /// <summary>The rules enabled by default (sliding-velocity), with their default settings.</summary>
    public static RuleSettings Default { get; } = RuleCatalog.Create(RuleConfig.Defaults);

    public IFraudRule? Find(string name) => Rules.FirstOrDefault(r => r.Name == name);
}
