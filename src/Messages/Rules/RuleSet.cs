using System.Globalization;
using System.Text;

namespace FraudActors.Messages.Rules;

/// <summary>
/// One rule's settings as they apply: whether it runs, its parameters (the keys of
/// <c>fraud.rules.&lt;name&gt;</c>, as text, in key order) and its version. Version 0 is the
/// configuration's; a record of the <c>rules</c> topic gives the rule the version of its offset
/// there plus one, so every change has its own number, the same on every node and in a replay
/// (docs/design.md, "Dynamic rules").
/// </summary>
public sealed record RuleSpec(string Name, bool Enabled, IReadOnlyList<KeyValuePair<string, string>> Params, long Version)
{
    /// <summary>The parameter's text, or null when the rule takes its default for it.</summary>
    public string? Param(string key) => Params.FirstOrDefault(p => p.Key == key) is { Key: not null } found ? found.Value : null;

    /// <summary>Equal settings and version, parameter for parameter (records compare lists by reference).</summary>
    public bool SameAs(RuleSpec other) =>
        Name == other.Name && Enabled == other.Enabled && Version == other.Version && Params.SequenceEqual(other.Params);
}

/// <summary>
/// The rules a partition applies to its records: every rule this build knows, each with its
/// settings and version, in name order. Two sets with equal <see cref="Key"/> apply alike, so
/// users build their rules once per set, not per record.
/// </summary>
public sealed class RuleSet
{
    public RuleSet(IEnumerable<RuleSpec> specs)
    {
        Specs = [.. specs.OrderBy(s => s.Name, StringComparer.Ordinal)];
        var key = new StringBuilder();
        foreach (var s in Specs)
        {
            key.Append(s.Name).Append('|').Append(s.Enabled ? '1' : '0').Append('|').Append(s.Version.ToString(CultureInfo.InvariantCulture));
            foreach (var (k, v) in s.Params)
            {
                key.Append('|').Append(k).Append('=').Append(v);
            }

            key.Append(';');
        }

        Key = key.ToString();
    }

    public IReadOnlyList<RuleSpec> Specs { get; }

    /// <summary>Names, settings and versions as one text: equal keys, equal sets.</summary>
    public string Key { get; }

    public RuleSpec? Find(string name) => Specs.FirstOrDefault(s => s.Name == name);

    public bool SameAs(RuleSet? other) => other is not null && Key == other.Key;

    public override string ToString() => Key;
}

/// <summary>
/// One rule as in force in a partition: its settings and version, the partition offset from
/// which it applies, and the epoch of the checkpoint that recorded it (null until one has).
/// </summary>
public sealed record RuleInForce(RuleSpec Spec, long SinceOffset, long? SinceEpoch);

/// <summary>
/// The rules a partition's checkpoint holds: those in force for the records from its next
/// offset on, each with where it took effect, so that a replay from that checkpoint applies the
/// same rules to the same records.
/// </summary>
public sealed record RecordedRules(IReadOnlyList<RuleInForce> Rules)
{
    public RuleSet ToSet() => new(Rules.Select(r => r.Spec));
}
