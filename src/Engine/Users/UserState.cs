using System.Collections.Immutable;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Users;

/// <summary>What applying a record or advancing the clock gave: the new state and its outputs.</summary>
public sealed record UserOutcome(UserState State, IReadOnlyList<Alert> Alerts, IReadOnlyList<WindowResult> Windows)
{
    /// <summary>The record's <c>tx_id</c> was already applied within the dedup window: it changed nothing but the applied offset.</summary>
    public bool DuplicateTxId { get; init; }

    public void Deconstruct(out UserState state, out IReadOnlyList<Alert> alerts)
    {
        state = State;
        alerts = Alerts;
    }
}

/// <summary>
/// Everything one user's actor knows, as an immutable value so it can be handed to a checkpoint
/// as is: each rule's keyed state, the user's timers, its open windows and its profile.
/// <see cref="LastAppliedOffset"/> makes replays harmless: a record at or below it was already
/// applied and is skipped (docs/design.md, section 4, step 4).
/// </summary>
public sealed record UserState(string UserId, long LastAppliedOffset)
{
    /// <summary>The owner of the timer that cleans up state idle for the time-to-live.</summary>
    public const string TtlTimerOwner = "state-ttl";

    internal static readonly ImmutableSortedDictionary<string, object> NoRuleStates = ImmutableSortedDictionary.Create<string, object>(StringComparer.Ordinal);

    /// <summary>Transactions applied to this user, each once (a replayed record does not count again).</summary>
    public long TransactionCount { get; init; }

    /// <summary>Each rule's own keyed state by rule name; a rule with nothing kept has no entry.</summary>
    public ImmutableSortedDictionary<string, object> RuleStates { get; init; } = NoRuleStates;

    public TimerSet Timers { get; init; }

    public WindowState Windows { get; init; } = WindowState.Empty;

    public UserProfile Profile { get; init; }

    /// <summary>The <c>tx_id</c>s applied within the dedup window, oldest first (keyed state of the deduplication).</summary>
    public ImmutableArray<SeenTransaction> SeenTransactions { get; init; } = [];

    /// <summary>The sliding-velocity rule's timestamps (its list state).</summary>
    public ImmutableArray<long> VelocityTimestamps =>
        RuleStates.TryGetValue(SlidingVelocityRule.RuleName, out var state) ? (ImmutableArray<long>)state : [];

    public static UserState Empty(string userId) => new(userId, -1);

    public UserState WithRuleState(string rule, object? state) =>
        this with { RuleStates = state is null ? RuleStates.Remove(rule) : RuleStates.SetItem(rule, state) };

    public UserOutcome Apply(ApplyTransaction command, RuleSettings rules, DateTimeOffset now) => Apply(command, new UserSettings(rules), now);

    /// <summary>
    /// Applies one transaction, the pure heart of the user actor: timers and windows due at the
    /// watermark before the record fire first, then every rule sees the record, then the windows
    /// and the profile take it, then what the record's own watermark closed fires.
    /// </summary>
    public UserOutcome Apply(ApplyTransaction command, UserSettings settings, DateTimeOffset now)
    {
        var tx = command.Transaction;
        // Lists are made only when something goes in them: most records raise nothing.
        List<WindowResult>? windows = null;
        var state = FireDue(command.WatermarkBeforeMs, command.NowMs, settings, now, ref windows);
        var seen = state.SeenTransactions;
        if (settings.DedupWindow is { } dedup && tx.TxId is { } txId)
        {
            seen = Remember(seen, command.TimeMs, txId, (long)dedup.TotalMilliseconds, out var duplicate);
            if (duplicate)
            {
                // Time still moves (the record's clock), nothing else does: no rule, window or profile sees it twice.
                state = state with { LastAppliedOffset = command.Offset, SeenTransactions = seen };
                state = state.FireDue(command.WatermarkMs, command.NowMs, settings, now, ref windows);
                return new UserOutcome(state, [], windows ?? (IReadOnlyList<WindowResult>)[]) { DuplicateTxId = true };
            }
        }

        List<Alert>? alerts = null;
        state = state.WithoutRulesOff(settings.Rules);
        var timers = state.Timers;
        var ruleStates = state.RuleStates;
        var input = new RuleInput(tx, command.TimeMs);
        foreach (var rule in settings.Rules.Rules)
        {
            var next = rule.Apply(ruleStates.GetValueOrDefault(rule.Name), input, ref timers, out var verdict);
            ruleStates = next is null ? ruleStates.Remove(rule.Name) : ruleStates.SetItem(rule.Name, next);
            if (verdict.Fired)
            {
                (alerts ??= new List<Alert>(1)).Add(new Alert(
                    Alert.IdFor(rule.Name, command.Partition, command.Offset),
                    rule.Name,
                    tx.UserId,
                    verdict.Count,
                    rule.WindowMs,
                    tx.Amount,
                    tx.Timestamp,
                    command.Partition,
                    command.Offset,
                    now,
                    tx.TxId)
                { RuleVersion = settings.Rules.VersionOf(rule.Name) });
            }
        }

        var windowState = state.Windows;
        if (settings.Windows is { Any: true } windowSettings)
        {
            (windowState, var full) = windowState.Add(tx.UserId, command.TimeMs, tx.Amount, command.Late, windowSettings, now);
            if (full is not null)
            {
                (windows ??= []).Add(full);
            }
        }

        var profile = state.Profile.Add(tx, command.TimeMs, settings.Ttl);
        if (settings.Ttl is { } ttl && !timers.Has(TtlTimerOwner))
        {
            timers = timers.Register(new UserTimer(command.TimeMs + (long)ttl.TimeToLive.TotalMilliseconds, TimeDomain.EventTime, TtlTimerOwner));
        }

        state = state with
        {
            LastAppliedOffset = command.Offset,
            TransactionCount = state.TransactionCount + 1,
            RuleStates = ruleStates,
            Timers = timers,
            Windows = windowState,
            Profile = profile,
            SeenTransactions = seen,
        };
        state = state.FireDue(command.WatermarkMs, command.NowMs, settings, now, ref windows);
        return new UserOutcome(state, alerts ?? (IReadOnlyList<Alert>)[], windows ?? (IReadOnlyList<WindowResult>)[]);
    }

    /// <summary>
    /// The state without what rules no longer running kept: a rule switched off (or not in
    /// force) drops its state and its timers at the user's next record, so switching it on again
    /// starts it afresh (docs/design.md, "Dynamic rules").
    /// </summary>
    private UserState WithoutRulesOff(RuleSettings rules)
    {
        var ruleStates = RuleStates;
        foreach (var (name, _) in RuleStates)
        {
            if (rules.Find(name) is null)
            {
                ruleStates = ruleStates.Remove(name);
            }
        }

        var timers = Timers;
        if (timers.Count > 0)
        {
            foreach (var timer in Timers.All)
            {
                if (timer.Owner != TtlTimerOwner && rules.Find(timer.Owner) is null)
                {
                    timers = timers.Delete(timer);
                }
            }
        }

        return ReferenceEquals(ruleStates, RuleStates) && timers.Count == Timers.Count ? this : this with { RuleStates = ruleStates, Timers = timers };
    }

    /// <summary>
    /// Forgets the ids older than <paramref name="windowMs"/> before the newest time seen, then
    /// looks <paramref name="txId"/> up; a new id is remembered at <paramref name="timeMs"/>.
    /// </summary>
    private static ImmutableArray<SeenTransaction> Remember(ImmutableArray<SeenTransaction> seen, long timeMs, string txId, long windowMs, out bool duplicate)
    {
        var newest = timeMs;
        foreach (var s in seen)
        {
            newest = Math.Max(newest, s.TimeMs);
        }

        var forgotten = 0;
        while (forgotten < seen.Length && seen[forgotten].TimeMs < newest - windowMs)
        {
            forgotten++;
        }

        for (var i = forgotten; i < seen.Length; i++)
        {
            if (string.Equals(seen[i].TxId, txId, StringComparison.Ordinal))
            {
                duplicate = true;
                return forgotten > 0 ? seen.RemoveRange(0, forgotten) : seen;
            }
        }

        // The ids kept and the new one, in one copy.
        duplicate = false;
        var next = new SeenTransaction[seen.Length - forgotten + 1];
        seen.AsSpan()[forgotten..].CopyTo(next);
        next[^1] = new SeenTransaction(timeMs, txId);
        return System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(next);
    }

    /// <summary>The partition's clock moved: fire the timers and windows now due.</summary>
    public UserOutcome Advance(long watermarkMs, long nowMs, UserSettings settings, DateTimeOffset now)
    {
        List<WindowResult>? windows = null;
        var state = FireDue(watermarkMs, nowMs, settings, now, ref windows);
        return new UserOutcome(state, [], windows ?? (IReadOnlyList<WindowResult>)[]);
    }

    /// <summary>
    /// When this user next needs waking, in the job's time: its earliest timer or window end.
    /// The partition indexes it, so a user that receives no more records still fires.
    /// </summary>
    public long? NextTimerMs(UserSettings settings)
    {
        var next = Timers.EarliestMs;
        if (settings.Windows is not null && Windows.NextDueMs(settings.Windows) is { } window)
        {
            next = next is { } t ? Math.Min(t, window) : window;
        }

        return next;
    }

    private UserState FireDue(long watermarkMs, long nowMs, UserSettings settings, DateTimeOffset now, ref List<WindowResult>? results)
    {
        var state = this;
        if (Timers.Count > 0)
        {
            var (eventTimers, rest) = Timers.Due(TimeDomain.EventTime, watermarkMs);
            var (processingTimers, remaining) = rest.Due(TimeDomain.ProcessingTime, nowMs);
            if (eventTimers.Count + processingTimers.Count > 0)
            {
                state = state with { Timers = remaining };
                foreach (var timer in eventTimers.Concat(processingTimers).OrderBy(t => t))
                {
                    state = state.OnTimer(timer, settings);
                }
            }
        }

        if (settings.Windows is { AnyTimeWindow: true } windowSettings)
        {
            var (windows, fired) = state.Windows.Fire(UserId, watermarkMs, windowSettings, now);
            if (fired.Count > 0)
            {
                state = state with { Windows = windows };
                (results ??= []).AddRange(fired);
            }
        }

        return state;
    }

    private UserState OnTimer(UserTimer timer, UserSettings settings)
    {
        if (timer.Owner == TtlTimerOwner)
        {
            return OnTtlTimer(timer, settings);
        }

        if (settings.Rules.Find(timer.Owner) is not { } rule)
        {
            return this; // the timer of a rule no longer enabled: nothing to do
        }

        var timers = Timers;
        var next = rule.OnTimer(RuleStates.GetValueOrDefault(rule.Name), timer, ref timers);
        return WithRuleState(rule.Name, next) with { Timers = timers };
    }

    /// <summary>Idle for the time-to-live: the profile and the rules' state go; a user seen since gets a later timer.</summary>
    private UserState OnTtlTimer(UserTimer timer, UserSettings settings)
    {
        if (settings.Ttl is not { } ttl)
        {
            return this;
        }

        var ttlMs = (long)ttl.TimeToLive.TotalMilliseconds;
        var lastSeen = Profile.LastSeenMs.Get(long.MinValue);
        if (lastSeen != long.MinValue && lastSeen + ttlMs > timer.AtMs)
        {
            return this with { Timers = Timers.Register(timer with { AtMs = lastSeen + ttlMs }) };
        }

        return this with { Profile = default, RuleStates = NoRuleStates, SeenTransactions = [] };
    }
}

/// <summary>A <c>tx_id</c> a user applied, and the time of its record.</summary>
public readonly record struct SeenTransaction(long TimeMs, string TxId);
