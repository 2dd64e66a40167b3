using FraudActors.Engine.Users;
using FraudActors.Service.Configuration;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// The drill's result lines: what it found against what the reference expects, one line per
/// output with its counts of differences and the first few of each. Each returns whether
/// anything differed.
/// </summary>
public static class DrillReport
{
    private const int Shown = 5;

    /// <summary>Alert ids of <paramref name="what"/> (the topic or the table) against the reference.</summary>
    public static bool Alerts(string what, List<string> expected, IReadOnlyCollection<string> actual)
    {
        var (duplicates, missing, extra) = AlertReference.Compare(expected, actual);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: expected {expected.Count}, found {actual.Count}; duplicates {duplicates.Count}, missing {missing.Count}, extra {extra.Count}"));
        Details(duplicates.Take(Shown).Select(d => "duplicate " + d).Concat(missing.Take(Shown).Select(m => "missing " + m)).Concat(extra.Take(Shown).Select(e => "extra " + e)));
        return duplicates.Count + missing.Count + extra.Count > 0;
    }

    /// <summary>Both result topics against the reference: each id once, none missing or extra, its count and total right, on its kind's topic.</summary>
    public static bool WindowTopics(List<WindowReference.Expected> expected, List<PublishedWindowResult> results, TopicNames topics)
    {
        var (duplicates, missing, extra, wrong) = WindowReference.Compare(expected, [.. results.Select(r => (r.Result.ResultId, r.Result.Count, r.Result.TotalAmount))]);
        wrong.AddRange(results
            .Where(r => r.Topic != WindowResultsCheck.TopicFor(r.Result.Kind, topics.WindowCounts, topics.Sessions))
            .Select(r => $"{r.Result.ResultId}: on {r.Topic}, not {WindowResultsCheck.TopicFor(r.Result.Kind, topics.WindowCounts, topics.Sessions)}")
            .Distinct(StringComparer.Ordinal));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"window result topics: expected {expected.Count}, found {results.Count}; duplicates {duplicates.Count}, missing {missing.Count}, extra {extra.Count}, wrong {wrong.Count}"));
        Details(duplicates.Take(Shown).Select(d => "duplicate " + d)
            .Concat(missing.Take(Shown).Select(m => "missing " + m))
            .Concat(extra.Take(Shown).Select(e => "extra " + e))
            .Concat(wrong.Take(Shown).Select(w => "wrong " + w)));
        return duplicates.Count + missing.Count + extra.Count + wrong.Count > 0;
    }

    /// <summary>The <c>window_results</c> outbox table against the reference: the same ids, every one published.</summary>
    public static bool WindowTable(List<WindowReference.Expected> expected, IReadOnlyList<string> ids, long unpublished)
    {
        var (duplicates, missing, extra) = AlertReference.Compare([.. expected.Select(e => e.ResultId)], ids);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"window result table: expected {expected.Count}, found {ids.Count}; duplicates {duplicates.Count}, missing {missing.Count}, extra {extra.Count}, unpublished {unpublished}"));
        Details(duplicates.Take(Shown).Select(d => "duplicate " + d).Concat(missing.Take(Shown).Select(m => "missing " + m)).Concat(extra.Take(Shown).Select(e => "extra " + e)));
        return duplicates.Count + missing.Count + extra.Count + unpublished > 0;
    }

    /// <summary>Every user's checkpointed transaction count against the input's.</summary>
    public static bool Counts(Dictionary<string, long> expected, IReadOnlyDictionary<string, UserState> state)
    {
        var differences = CountReference.Differences(expected, state);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"user state: {expected.Count} users expected, {state.Count} checkpointed; transaction counts differing {differences.Count}"));
        Details(differences.Take(Shown));
        return differences.Count > 0;
    }

    private static void Details(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            Console.WriteLine("  " + line);
        }
    }
}
