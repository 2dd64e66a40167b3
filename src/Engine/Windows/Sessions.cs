using System.Collections.Immutable;
using FraudActors.Engine.State;

namespace FraudActors.Engine.Windows;

/// <summary>One session of a user: its first and last transaction, how many, how much.</summary>
public readonly record struct Session(long FirstMs, long LastMs, long Count, decimal Total)
{
    /// <summary>The session closes a gap after its last transaction.</summary>
    public long EndMs(long gapMs) => LastMs + gapMs;

    public long DurationSeconds => (LastMs - FirstMs) / 1000;

    public bool IsDue(long watermarkMs, long gapMs) => watermarkMs >= EndMs(gapMs) - 1;
}

/// <summary>
/// Session windows with a gap (Flink's <c>EventTimeSessionWindows.withGap</c>): a transaction
/// opens [ts, ts + gap) and merges with every open session it touches, so a late but allowed
/// record can extend a session or join two into one.
/// </summary>
public static class Sessions
{
    /// <summary>The open sessions (ordered by start) after a transaction at <paramref name="timestampMs"/>.</summary>
    public static ImmutableList<Session> Add(ImmutableList<Session> open, long timestampMs, decimal amount, long gapMs)
    {
        var merged = new Session(timestampMs, timestampMs, 1, amount);
        var kept = ImmutableList.CreateBuilder<Session>();
        foreach (var session in open)
        {
            // Windows [first, last + gap) and [ts, ts + gap) that overlap or touch are one session
            // (Flink's TimeWindow.intersects); open sessions never touch each other, so the new
            // record's window is all that can join them.
            if (session.FirstMs <= timestampMs + gapMs && timestampMs <= session.EndMs(gapMs))
            {
                merged = new Session(
                    Math.Min(merged.FirstMs, session.FirstMs),
                    Math.Max(merged.LastMs, session.LastMs),
                    merged.Count + session.Count,
                    Amounts.Add(merged.Total, session.Total));
            }
            else
            {
                kept.Add(session);
            }
        }

        kept.Add(merged);
        kept.Sort((a, b) => a.FirstMs.CompareTo(b.FirstMs));
        return kept.ToImmutable();
    }

    /// <summary>Splits the sessions the watermark has closed from those still open.</summary>
    public static (ImmutableList<Session> Closed, ImmutableList<Session> Open) Close(ImmutableList<Session> open, long watermarkMs, long gapMs) =>
        ([.. open.Where(s => s.IsDue(watermarkMs, gapMs))], [.. open.Where(s => !s.IsDue(watermarkMs, gapMs))]);
}
