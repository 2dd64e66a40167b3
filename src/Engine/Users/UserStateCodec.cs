using System.Collections.Immutable;
using FraudActors.Engine.Rules;
using FraudActors.Engine.State;
using FraudActors.Engine.Time;
using FraudActors.Engine.Windows;

namespace FraudActors.Engine.Users;

/// <summary>
/// The versioned bytes of a <see cref="UserState"/> inside a checkpoint. The first byte is the
/// format version; every version ever written stays readable. Version 2 added the transaction
/// count (a version 1 state loads with 0). Version 3 holds every rule's state by rule name,
/// the timers, the windows and the profile, behind a fixed header with the next timer. Version 4
/// adds the <c>tx_id</c>s remembered for deduplication (a version 3 state loads with none).
/// </summary>
public static class UserStateCodec
{
    [ThreadStatic]
    private static Scratch? _scratch;

    public const byte Version1 = 1;
    public const byte Version2 = 2;
    public const byte Version3 = 3;
    public const byte Version4 = 4;

    /// <summary>
    /// When the user next needs waking (its earliest timer or window end), read from the fixed
    /// header of a version 3 state without decoding the rest: what a partition journal indexes
    /// after recovery so timers fire for users that receive no more records. Null when none is
    /// due or the state predates version 3.
    /// </summary>
    public static long? PeekNextTimer(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 9 && bytes[0] is Version3 or Version4 && BitConverter.ToInt64(bytes[1..9]) is var next && next != long.MaxValue ? next : null;

    /// <summary>
    /// The same state as one that applied no record of its partition yet (last applied offset
    /// -1, as a new user's), every other byte as it was: what a user whose state moves to another
    /// partition holds there (<c>fraud rescale</c>), without the decode and encode that would
    /// need the job's rule settings and drop the state of rules they leave out.
    /// </summary>
    /// <exception cref="FormatException">A version this build does not know, or the state of another user.</exception>
    public static byte[] WithNothingApplied(string userId, byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        var version = bytes.Length > 0 ? r.ReadByte() : (byte)0;
        if (version is not (Version1 or Version2 or Version3 or Version4))
        {
            throw new FormatException($"user {userId}: state version {version} is unknown to this build (it reads versions {Version1} to {Version4})");
        }

        if (version >= Version3)
        {
            r.ReadInt64();
        }

        if (r.ReadString() is var id && id != userId)
        {
            throw new FormatException($"user {userId}: its state names user {id}");
        }

        // The last applied offset follows the user id in every version.
        var moved = (byte[])bytes.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(moved.AsSpan((int)r.BaseStream.Position, sizeof(long)), -1);
        return moved;
    }

    public static byte[] Encode(UserState state) => Encode(state, UserSettings.Default);

    /// <summary>Encodes with <paramref name="settings"/>: the rules' codecs and which windows make the next timer.</summary>
    public static byte[] Encode(UserState state, UserSettings settings)
    {
        // Every changed user is encoded at every checkpoint: one writer per thread, reused, and
        // one allocation per state (its bytes).
        var scratch = _scratch ??= new Scratch();
        scratch.Whole.SetLength(0);
        var w = scratch.Writer;
        w.Write(Version4);
        w.Write(state.NextTimerMs(settings) ?? long.MaxValue);
        w.Write(state.UserId);
        w.Write(state.LastAppliedOffset);
        w.Write(state.TransactionCount);
        WriteRules(w, scratch, state, settings.Rules);
        WriteTimers(w, state.Timers);
        WriteWindows(w, state.Windows);
        WriteProfile(w, state.Profile);
        WriteSeen(w, state.SeenTransactions);
        w.Flush();
        var bytes = scratch.Whole.ToArray();
        if (scratch.Whole.Capacity > Scratch.KeptBytes || scratch.Part.Capacity > Scratch.KeptBytes)
        {
            _scratch = null; // one huge state does not keep its buffer on the thread
        }

        return bytes;
    }

    public static UserState Decode(byte[] bytes) => Decode(bytes, UserSettings.Default);

    /// <summary>Decodes; the state of a rule not in <paramref name="settings"/> is dropped (a rule turned off forgets).</summary>
    public static UserState Decode(byte[] bytes, UserSettings settings)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        var version = r.ReadByte();
        if (version is not (Version1 or Version2 or Version3 or Version4))
        {
            throw new FormatException($"user state version {version} is unknown to this build (it reads versions {Version1} to {Version4})");
        }

        if (version >= Version3)
        {
            r.ReadInt64(); // the next timer: derived from the rest
        }

        var state = new UserState(r.ReadString(), r.ReadInt64()) { TransactionCount = version >= Version2 ? r.ReadInt64() : 0 };
        if (version < Version3)
        {
            // Versions 1 and 2 held only the sliding-velocity timestamps.
            var velocity = new SlidingVelocityRule(new VelocitySettings());
            var timestamps = velocity.Read(r);
            return settings.Rules.Find(SlidingVelocityRule.RuleName) is null ? state : state.WithRuleState(SlidingVelocityRule.RuleName, timestamps);
        }

        state = ReadRules(r, state, settings.Rules);
        state = state with { Timers = ReadTimers(r), Windows = ReadWindows(r), Profile = ReadProfile(r) };
        return version >= Version4 ? state with { SeenTransactions = ReadSeen(r) } : state;
    }

    private static void WriteRules(BinaryWriter w, Scratch scratch, UserState state, RuleSettings rules)
    {
        var known = 0;
        foreach (var (name, _) in state.RuleStates)
        {
            known += (rules.Find(name) ?? RuleCatalog.Codec(name)) is null ? 0 : 1;
        }

        w.Write(known);
        foreach (var (name, ruleState) in state.RuleStates)
        {
            if ((rules.Find(name) ?? RuleCatalog.Codec(name)) is not { } rule)
            {
                continue;
            }

            w.Write(name);
            scratch.Part.SetLength(0);
            rule.Write(scratch.PartWriter, ruleState);
            scratch.PartWriter.Flush();
            w.Write((int)scratch.Part.Length);
            w.Write(scratch.Part.GetBuffer(), 0, (int)scratch.Part.Length);
        }
    }

    private static UserState ReadRules(BinaryReader r, UserState state, RuleSettings rules)
    {
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadString();
            var bytes = r.ReadBytes(r.ReadInt32());
            if ((rules.Find(name) ?? RuleCatalog.Codec(name)) is { } rule)
            {
                using var pr = new BinaryReader(new MemoryStream(bytes));
                state = state.WithRuleState(name, rule.Read(pr));
            }
        }

        return state;
    }

    private static void WriteTimers(BinaryWriter w, TimerSet timers)
    {
        w.Write(timers.Count);
        foreach (var timer in timers.All)
        {
            w.Write(timer.AtMs);
            w.Write((byte)timer.Domain);
            w.Write(timer.Owner);
        }
    }

    private static TimerSet ReadTimers(BinaryReader r)
    {
        var timers = TimerSet.Empty;
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            timers = timers.Register(new UserTimer(r.ReadInt64(), (TimeDomain)r.ReadByte(), r.ReadString()));
        }

        return timers;
    }

    private static void WriteWindows(BinaryWriter w, WindowState windows)
    {
        WriteTimeWindows(w, windows.Tumbling);
        WriteTimeWindows(w, windows.Sliding);
        w.Write(windows.Sessions.Count);
        foreach (var session in windows.Sessions)
        {
            w.Write(session.FirstMs);
            w.Write(session.LastMs);
            w.Write(session.Count);
            w.Write(session.Total);
        }

        w.Write(windows.Counting.Count);
        w.Write(windows.Counting.Total);
        w.Write(windows.CountingFirstMs);
        w.Write(windows.CountWindowsEmitted);
    }

    private static WindowState ReadWindows(BinaryReader r)
    {
        var tumbling = ReadTimeWindows(r);
        var sliding = ReadTimeWindows(r);
        var sessions = ImmutableList.CreateBuilder<Session>();
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            sessions.Add(new Session(r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadDecimal()));
        }

        return new WindowState(tumbling, sliding, sessions.ToImmutable(), new CountWindow(r.ReadInt64(), r.ReadDecimal()), r.ReadInt64(), r.ReadInt64());
    }

    private static void WriteTimeWindows(BinaryWriter w, ImmutableSortedDictionary<TimeWindow, WindowAggregate> windows)
    {
        w.Write(windows.Count);
        foreach (var (window, aggregate) in windows)
        {
            w.Write(window.StartMs);
            w.Write(window.EndMs);
            w.Write(aggregate.Count);
            w.Write(aggregate.Total);
        }
    }

    private static ImmutableSortedDictionary<TimeWindow, WindowAggregate> ReadTimeWindows(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count == 0)
        {
            return WindowState.Empty.Tumbling;
        }

        var windows = WindowState.Empty.Tumbling.ToBuilder();
        for (var i = 0; i < count; i++)
        {
            windows[new TimeWindow(r.ReadInt64(), r.ReadInt64())] = new WindowAggregate(r.ReadInt64(), r.ReadDecimal());
        }

        return windows.ToImmutable();
    }

    private static void WriteSeen(BinaryWriter w, ImmutableArray<SeenTransaction> seen)
    {
        w.Write(seen.Length);
        foreach (var transaction in seen)
        {
            w.Write(transaction.TimeMs);
            w.Write(transaction.TxId);
        }
    }

    private static ImmutableArray<SeenTransaction> ReadSeen(BinaryReader r)
    {
        var count = r.ReadInt32();
        var seen = ImmutableArray.CreateBuilder<SeenTransaction>(count);
        for (var i = 0; i < count; i++)
        {
            seen.Add(new SeenTransaction(r.ReadInt64(), r.ReadString()));
        }

        return seen.MoveToImmutable();
    }

    private static void WriteProfile(BinaryWriter w, UserProfile profile)
    {
        StateCodec.Write(w, profile.MerchantCounts, StateCodec.String, StateCodec.Int64);
        StateCodec.Write(w, profile.Amounts, StateCodec.Stats);
        StateCodec.Write(w, profile.LastSeenMs, StateCodec.Int64);
    }

    private static UserProfile ReadProfile(BinaryReader r) =>
        new(StateCodec.ReadMap(r, StateCodec.ReadString, StateCodec.ReadInt64), StateCodec.ReadReducing(r, StateCodec.ReadStats), StateCodec.ReadValue(r, StateCodec.ReadInt64));

    /// <summary>A thread's writers for <see cref="Encode(UserState, UserSettings)"/>: the whole state, and one rule's part of it.</summary>
    private sealed class Scratch
    {
        /// <summary>Buffers grown past this by one state are not kept.</summary>
        public const int KeptBytes = 64 * 1024;

        public Scratch()
        {
            Writer = new BinaryWriter(Whole, System.Text.Encoding.UTF8, leaveOpen: true);
            PartWriter = new BinaryWriter(Part, System.Text.Encoding.UTF8, leaveOpen: true);
        }

        public MemoryStream Whole { get; } = new(256);

        public BinaryWriter Writer { get; }

        public MemoryStream Part { get; } = new(64);

        public BinaryWriter PartWriter { get; }
    }
}
