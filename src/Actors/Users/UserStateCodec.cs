using System.Collections.Immutable;

namespace FraudActors.Actors.Users;

/// <summary>
/// The versioned bytes of a <see cref="UserState"/> inside a checkpoint. The first byte is the
/// format version; every version ever written stays readable. Version 2 added the transaction
/// count; a version 1 state loads with a count of 0 (unknown before the upgrade).
/// </summary>
public static class UserStateCodec
{
    public const byte Version1 = 1;
    public const byte Version2 = 2;
    public const byte Version3 = 3;

    /// <summary>
    /// When the user next needs waking (its earliest timer or window end), read from the fixed
    /// header of a version 3 state without decoding the rest: what a partition journal indexes
    /// after recovery so timers fire for users that receive no more records. Null when none is
    /// due or the state predates version 3.
    /// </summary>
    public static long? PeekNextTimer(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 9 && bytes[0] == Version3 && BitConverter.ToInt64(bytes[1..9]) is var next && next != long.MaxValue ? next : null;

    public static byte[] Encode(UserState state)
    {
        using var stream = new MemoryStream(40 + (8 * state.VelocityTimestamps.Length));
        using (var w = new BinaryWriter(stream))
        {
            w.Write(Version2);
            w.Write(state.UserId);
            w.Write(state.LastAppliedOffset);
            w.Write(state.TransactionCount);
            w.Write(state.VelocityTimestamps.Length);
            foreach (var t in state.VelocityTimestamps)
            {
                w.Write(t);
            }
        }

        return stream.ToArray();
    }

    public static UserState Decode(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        var version = r.ReadByte();
        if (version is not (Version1 or Version2))
        {
            throw new FormatException($"user state version {version} is unknown to this build (it reads versions {Version1} and {Version2})");
        }

        var userId = r.ReadString();
        var lastApplied = r.ReadInt64();
        var count = version >= Version2 ? r.ReadInt64() : 0;
        var timestamps = ImmutableArray.CreateBuilder<long>(r.ReadInt32());
        for (var i = 0; i < timestamps.Capacity; i++)
        {
            timestamps.Add(r.ReadInt64());
        }

        return new UserState(userId, lastApplied, timestamps.MoveToImmutable()) { TransactionCount = count };
    }
}
