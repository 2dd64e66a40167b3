using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FraudActors.Engine.Users;
using FraudActors.Messages.Rules;

namespace FraudActors.Engine.Rules;

/// <summary>
/// Rule sets made runnable: each distinct <see cref="RuleSet"/> is built into its rules once and
/// shared, so a record that carries its partition's set costs a lookup, not a build.
/// </summary>
public static class RuleSets
{
    private const int Kept = 64;
    private static readonly ConcurrentDictionary<string, RuleSettings> Built = new(StringComparer.Ordinal);

    private static readonly ConditionalWeakTable<UserSettings, ConditionalWeakTable<RuleSet, UserSettings>> ByReference = [];
    private static readonly ConditionalWeakTable<UserSettings, ConcurrentDictionary<string, UserSettings>> ByKey = [];

    /// <summary>
    /// <paramref name="configured"/> with the rules of <paramref name="set"/> instead of its own
    /// (null: as configured); one object per distinct set, shared by every user. A set met
    /// before is found by reference (the records of a partition share theirs), a set read from
    /// the wire by its key.
    /// </summary>
    public static UserSettings For(UserSettings configured, RuleSet? set)
    {
        if (set is null)
        {
            return configured;
        }

        var byReference = ByReference.GetValue(configured, _ => []);
        if (byReference.TryGetValue(set, out var settings))
        {
            return settings;
        }

        var byKey = ByKey.GetValue(configured, _ => new ConcurrentDictionary<string, UserSettings>(StringComparer.Ordinal));
        if (!byKey.TryGetValue(set.Key, out settings))
        {
            if (byKey.Count >= Kept)
            {
                byKey.Clear();
            }

            settings = byKey.GetOrAdd(set.Key, configured with { Rules = Settings(set) });
        }

        byReference.AddOrUpdate(set, settings);
        return settings;
    }

    /// <summary>The enabled rules of <paramref name="set"/>, each with its parameters; built once per distinct set.</summary>
    public static RuleSettings Settings(RuleSet set)
    {
        if (Built.TryGetValue(set.Key, out var settings))
        {
            return settings;
        }

        if (Built.Count >= Kept)
        {
            // Sets change a few times a week: a full cache means a long life, not a working set.
            Built.Clear();
        }

        settings = new RuleSettings([.. set.Specs
            .Where(s => s.Enabled && RuleCatalog.Known.Any(k => k.Name == s.Name))
            .Select(s => RuleCatalog.Create(s.Name, new RuleConfig(s.Name, s.Param)))])
        { Set = set };
        return Built.GetOrAdd(set.Key, settings);
    }
}
