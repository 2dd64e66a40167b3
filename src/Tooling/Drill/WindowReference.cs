namespace FraudActors.Tooling.Drill;

/// <summary>
/// The window results a stream must produce, computed independently of the service by plain
/// grouping: per user and window for tumbling and sliding windows, by the gap between a user's
/// sorted timestamps for sessions, every n-th transaction for count windows. Only windows the
/// final watermark of their partition (highest ts − out-of-orderness) has passed are expected;
/// the stream is assumed in time order per partition, so no record is late.
/// </summary>
public static class WindowReference
{
    /// <summary>One expected result: its id and what it must count.</summary>
    public sealed record Expected(string ResultId, long Count, decimal Total);

    public static List<Expected> Compute(
        IEnumerable<(int Partition, long Offset, Transaction Transaction)> records,
        TimeSpan outOfOrderness,
        TimeSpan? tumbling = null,
        (TimeSpan Size, TimeSpan Slide)? sliding = null,
        TimeSpan? sessionGap = null,
        int? countSize = null)
    {
        var ordered = records.OrderBy(r => r.Partition).ThenBy(r => r.Offset).ToList();
        var finalWatermark = ordered.GroupBy(r => r.Partition)
            .ToDictionary(g => g.Key, g => g.Max(r => r.Transaction.EventTimeMs) - (long)outOfOrderness.TotalMilliseconds);
        var expected = new List<Expected>();
        foreach (var user in ordered.GroupBy(r => (r.Partition, r.Transaction.UserId)))
        {
            var watermark = finalWatermark[user.Key.Partition];
            var txs = user.Select(r => r.Transaction).ToList();
            var id = user.Key.UserId;
            if (tumbling is { } size)
            {
                expected.AddRange(TimeWindows("tumbling", id, txs, (long)size.TotalMilliseconds, (long)size.TotalMilliseconds, watermark));
            }

            if (sliding is { } s)
            {
                expected.AddRange(TimeWindows("sliding", id, txs, (long)s.Size.TotalMilliseconds, (long)s.Slide.TotalMilliseconds, watermark));
            }

            if (sessionGap is { } gap)
            {
                expected.AddRange(Sessions(id, txs, (long)gap.TotalMilliseconds, watermark));
            }

            if (countSize is { } n)
            {
                for (var k = 1; k * n <= txs.Count; k++)
                {
                    var chunk = txs.Skip((k - 1) * n).Take(n).ToList();
                    expected.Add(new Expected(Id($"count:{id}:{k}"), n, chunk.Sum(t => t.Amount)));
                }
            }
        }

        return expected;
    }

    /// <summary>Duplicated, missing and extra ids, and results whose count or total differ.</summary>
    public static (List<string> Duplicates, List<string> Missing, List<string> Extra, List<string> Wrong) Compare(
        IReadOnlyCollection<Expected> expected, IReadOnlyCollection<(string ResultId, long Count, decimal Total)> actual)
    {
        var (duplicates, missing, extra) = AlertReference.Compare([.. expected.Select(e => e.ResultId)], [.. actual.Select(a => a.ResultId)]);
        var byId = expected.ToDictionary(e => e.ResultId, StringComparer.Ordinal);
        var wrong = actual
            .Where(a => byId.TryGetValue(a.ResultId, out var e) && (e.Count != a.Count || e.Total != a.Total))
            .Select(a => $"{a.ResultId}: {a.Count} / {a.Total}, expected {byId[a.ResultId].Count} / {byId[a.ResultId].Total}")
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return (duplicates, missing, extra, wrong);
    }

    private static IEnumerable<Expected> TimeWindows(string kind, string user, List<Transaction> txs, long sizeMs, long slideMs, long watermark)
    {
        // Every window [start, start + size) with start a multiple of the slide that holds a transaction.
        var starts = txs.SelectMany(t =>
        {
            var ts = t.EventTimeMs;
            var last = ts - (((ts % slideMs) + slideMs) % slideMs);
            return Enumerable.Range(0, (int)((sizeMs + slideMs - 1) / slideMs)).Select(i => last - (i * slideMs)).Where(s => s + sizeMs > ts);
        }).Distinct();
        foreach (var start in starts)
        {
            var end = start + sizeMs;
            if (end - 1 > watermark)
            {
                continue; // still open at the end of the stream
            }

            var inside = txs.Where(t => t.EventTimeMs >= start && t.EventTimeMs < end).ToList();
            yield return new Expected(Id($"{kind}:{user}:{start}:{end}"), inside.Count, inside.Sum(t => t.Amount));
        }
    }

    private static IEnumerable<Expected> Sessions(string user, List<Transaction> txs, long gapMs, long watermark)
    {
        var times = txs.OrderBy(t => t.EventTimeMs).ToList();
        var first = 0;
        for (var i = 1; i <= times.Count; i++)
        {
            // A session ends where the next transaction is more than a gap after the last one
            // (windows [t, t + gap) that touch merge, as Flink's do).
            if (i < times.Count && times[i].EventTimeMs - times[i - 1].EventTimeMs <= gapMs)
            {
                continue;
            }

            var session = times[first..i];
            if (session[^1].EventTimeMs + gapMs - 1 <= watermark)
            {
                yield return new Expected(Id($"session:{user}:{session[0].EventTimeMs}"), session.Count, session.Sum(t => t.Amount));
            }

            first = i;
        }
    }

    private static string Id(FormattableString id) => id.ToString(CultureInfo.InvariantCulture);
}
