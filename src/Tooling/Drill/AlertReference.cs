namespace FraudActors.Tooling.Drill;

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

    /// <summary>
    /// The sliding-velocity alerts when its settings change along the stream (dynamic rules,
    /// docs/design.md): <paramref name="ruleAt"/> gives, for a record's partition and offset, whether
    /// the rule runs and its threshold. A record under the rule switched off drops the user's
    /// timestamps and is not counted, so the rule switched on again starts afresh. Each alert
    /// with the version <paramref name="ruleAt"/> gives.
    /// </summary>
    public static List<(string Id, long Version)> SlidingVelocity(
        IEnumerable<(int Partition, long Offset, Transaction Transaction)> records, Func<int, long, (bool Enabled, int Threshold, long Version)> ruleAt, int windowSeconds = 60)
    {
        var seen = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal);
        var alerts = new List<(string, long)>();
        foreach (var (partition, offset, tx) in records.OrderBy(r => r.Partition).ThenBy(r => r.Offset))
        {
            var (enabled, threshold, version) = ruleAt(partition, offset);
            if (!enabled)
            {
                seen.Remove(tx.UserId);
                continue;
            }

            var times = seen.TryGetValue(tx.UserId, out var list) ? list : seen[tx.UserId] = [];
            times.Add(tx.Timestamp);
            if (times.Count(t => t >= tx.Timestamp.AddSeconds(-windowSeconds) && t <= tx.Timestamp) > threshold)
            {
                alerts.Add((string.Create(CultureInfo.InvariantCulture, $"sliding-velocity:{partition}:{offset}"), version));
            }
        }

        return alerts;
    }

    /// <summary>
    /// The lecture's VelocityAlert in event time: a user's count starts with a transaction and its
    /// timer, a window later, resets it once its partition's watermark (highest ts − out-of-orderness,
    /// as of the records before) has passed; more than the threshold alerts.
    /// </summary>
    public static List<string> TimerVelocityIds(
        IEnumerable<(int Partition, long Offset, Transaction Transaction)> records, int threshold = 5, int windowSeconds = 60, int outOfOrdernessSeconds = 5)
    {
        var watermark = new Dictionary<int, long>();
        var users = new Dictionary<string, (long Count, long? ResetAt)>(StringComparer.Ordinal);
        var ids = new List<string>();
        foreach (var (partition, offset, tx) in records.OrderBy(r => r.Partition).ThenBy(r => r.Offset))
        {
            var ts = tx.Timestamp.ToUnixTimeMilliseconds();
            var before = watermark.GetValueOrDefault(partition, long.MinValue);
            var (count, resetAt) = users.GetValueOrDefault(tx.UserId);
            if (resetAt is { } at && at <= before)
            {
                (count, resetAt) = (0, null);
            }

            resetAt ??= ts + (windowSeconds * 1000L);
            count++;
            if (count > threshold)
            {
                ids.Add(string.Create(CultureInfo.InvariantCulture, $"timer-velocity:{partition}:{offset}"));
            }

            users[tx.UserId] = (count, resetAt);
            watermark[partition] = Math.Max(before, ts - (outOfOrdernessSeconds * 1000L));
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
