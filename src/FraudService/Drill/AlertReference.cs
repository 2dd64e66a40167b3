using System.Globalization;
using FraudActors.Messages.Transactions;

namespace FraudActors.FraudService.Drill;

/// <summary>
/// The alerts a stream must produce, computed independently of the service: by brute force over
/// each user's transactions in partition order, with ids from where each record landed.
/// </summary>
public static class AlertReference
{
    public static List<string> SlidingVelocityIds(IEnumerable<(int Partition, long Offset, Transaction Transaction)> records, int threshold = 5, int windowSeconds = 60)
    {
        var seen = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal);
        var ids = new List<string>();
        foreach (var (partition, offset, tx) in records.OrderBy(r => r.Partition).ThenBy(r => r.Offset))
        {
            var times = seen.TryGetValue(tx.UserId, out var list) ? list : seen[tx.UserId] = [];
            times.Add(tx.Timestamp);
            if (times.Count(t => t >= tx.Timestamp.AddSeconds(-windowSeconds) && t <= tx.Timestamp) > threshold)
            {
                ids.Add(string.Create(CultureInfo.InvariantCulture, $"sliding-velocity:{partition}:{offset}"));
            }
        }

        return ids;
    }

    /// <summary>Duplicates, missing and extra ids of <paramref name="actual"/> against <paramref name="expected"/>.</summary>
    public static (List<string> Duplicates, List<string> Missing, List<string> Extra) Compare(IReadOnlyCollection<string> expected, IReadOnlyCollection<string> actual)
    {
        var duplicates = actual.GroupBy(a => a, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var actualSet = actual.ToHashSet(StringComparer.Ordinal);
        var expectedSet = expected.ToHashSet(StringComparer.Ordinal);
        return (duplicates, [.. expected.Where(e => !actualSet.Contains(e))], [.. actualSet.Where(a => !expectedSet.Contains(a))]);
    }
}
