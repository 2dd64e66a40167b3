using FraudActors.Messages.Rules;

namespace FraudActors.Engine.Rules;

/// <summary>The rules that run, in name order; each alert names its rule and the rule's version.</summary>
public sealed record RuleSettings(IReadOnlyList<IFraudRule> Rules)
{
    /// <summary>Only sliding-velocity with the given settings (none when null): the shape most tests want.</summary>
    public RuleSettings(VelocitySettings? SlidingVelocity)
        : this(SlidingVelocity is null ? [] : [new SlidingVelocityRule(SlidingVelocity)])
    {
    }

    /// <summary>The rules enabled by default (sliding-velocity), with their default settings.</summary>
    public static RuleSettings Default { get; } = RuleCatalog.Create(RuleConfig.Defaults);

    /// <summary>The specs these rules were built from (every known rule, enabled or not); null for rules built by hand.</summary>
    public RuleSet? Set { get; init; }

    public IFraudRule? Find(string name)
    {
        foreach (var rule in Rules)
        {
            if (rule.Name == name)
            {
                return rule;
            }
        }

        return null;
    }

    /// <summary>The version of <paramref name="name"/>'s settings (0: the configuration's, or rules built by hand).</summary>
    public long VersionOf(string name) => Set?.Find(name)?.Version ?? 0;
}
