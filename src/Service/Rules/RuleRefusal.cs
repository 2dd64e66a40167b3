using FraudActors.Engine.Rules;

namespace FraudActors.Service.Rules;

/// <summary>How the HTTP API and <c>fraud rules</c> word a rule record that is not valid: the key at fault is always named.</summary>
public static class RuleRefusal
{
    /// <summary><paramref name="e"/>'s message, led by its key unless the message names it already (<c>rule x: params.threshold: …</c>).</summary>
    public static string Describe(RuleRecordException e) =>
        e.Message.StartsWith(e.Key + ":", StringComparison.Ordinal) || e.Message.Contains(" " + e.Key + ":", StringComparison.Ordinal)
            ? e.Message
            : $"{e.Key}: {e.Message}";
}
