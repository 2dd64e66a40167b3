using FraudActors.Engine.Users;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// Each user's transaction count as the input dictates, against the counts the service's
/// checkpointed state holds: a record applied twice or never shows up here even when it raised
/// no alert.
/// </summary>
public static class CountReference
{
    public static Dictionary<string, long> Expected(IEnumerable<Transaction> transactions) =>
        transactions.GroupBy(t => t.UserId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);

    /// <summary>One line per user whose count differs (a user missing from the state counts 0).</summary>
    public static List<string> Differences(IReadOnlyDictionary<string, long> expected, IReadOnlyDictionary<string, UserState> state)
    {
        var differences = new List<string>();
        foreach (var user in expected.Keys.Union(state.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var want = expected.GetValueOrDefault(user);
            var have = state.TryGetValue(user, out var s) ? s.TransactionCount : 0;
            if (want != have)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{user}: expected {want} transactions, state has {have}"));
            }
        }

        return differences;
    }
}
