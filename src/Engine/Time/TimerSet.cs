using System.Collections.Immutable;

namespace FraudActors.Engine.Time;

/// <summary>Whether a timer follows event time (the partition's watermark) or processing time (the wall clock).</summary>
public enum TimeDomain : byte
{
    EventTime = 1,
    ProcessingTime = 2,
}

/// <summary>A timer of a user: when it fires, in which time domain, and which rule's it is.</summary>
public readonly record struct UserTimer(long AtMs, TimeDomain Domain, string Owner) : IComparable<UserTimer>
{
    public int CompareTo(UserTimer other) =>
        (AtMs, (byte)Domain).CompareTo((other.AtMs, (byte)other.Domain)) is var order and not 0 ? order : string.CompareOrdinal(Owner, other.Owner);
}

/// <summary>
/// A user's registered timers (Flink's timer service for one key): registering the same timer
/// twice keeps one, deleting removes it, and each fires once — <see cref="Due"/> hands back the
/// timers the clock has passed and keeps only the rest, so a state checkpointed after a firing
/// never fires it again.
/// </summary>
public readonly record struct TimerSet(ImmutableSortedSet<UserTimer>? Timers)
{
    public static TimerSet Empty => default;

    public int Count => Timers?.Count ?? 0;

    public IEnumerable<UserTimer> All => Timers ?? [];

    /// <summary>Whether a timer of <paramref name="owner"/> is registered (asked per record: no allocation).</summary>
    public bool Has(string owner)
    {
        if (Timers is null)
        {
            return false;
        }

        foreach (var timer in Timers)
        {
            if (string.Equals(timer.Owner, owner, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>When the earliest timer of any domain fires, or null when there is none.</summary>
    public long? EarliestMs => Timers is { Count: > 0 } timers ? timers.Min.AtMs : null;

    /// <summary>The earliest timer of a domain: what a partition indexes to know when to wake this user.</summary>
    public long? Next(TimeDomain domain) => All.Where(t => t.Domain == domain).Select(t => (long?)t.AtMs).FirstOrDefault();

    public TimerSet Register(UserTimer timer) => new((Timers ?? []).Add(timer));

    public TimerSet Delete(UserTimer timer) => Timers is null ? this : new(Timers.Remove(timer));

    /// <summary>The timers of <paramref name="domain"/> at or before <paramref name="nowMs"/>, in time order, and the set without them.</summary>
    public (IReadOnlyList<UserTimer> Fired, TimerSet Remaining) Due(TimeDomain domain, long nowMs)
    {
        if (EarliestMs is not { } earliest || earliest > nowMs)
        {
            // Asked twice per record: nothing due, nothing allocated.
            return ([], this);
        }

        var fired = All.Where(t => t.Domain == domain && t.AtMs <= nowMs).ToList();
        return fired.Count == 0 ? ([], this) : (fired, new TimerSet(Timers!.Except(fired)));
    }
}
