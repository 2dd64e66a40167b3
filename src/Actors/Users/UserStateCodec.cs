using System.Collections.Immutable;

namespace FraudActors.Actors.Users;

/// <summary>
/// The versioned bytes of a <see cref="UserState"/> inside a checkpoint. The first byte is the
/// format version; every version ever written stays readable.
/// </summary>
public static class UserStateCodec
{
    public const byte Version1 = 1;

    public static byte[] Encode(UserState state)
    {
        using var stream = new MemoryStream(32 + (8 * state.VelocityTimestamps.Length));
        using (var w = new BinaryWriter(stream))
        {
            w.Write(Version1);
            w.Write(state.UserId);
            w.Write(state.LastAppliedOffset);
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
        if (version != Version1)
        {
            throw new FormatException($"user state version {version} is unknown to this build (it reads version {Version1})");
        }

        var userId = r.ReadString();
        var lastApplied = r.ReadInt64();
        var timestamps = ImmutableArray.CreateBuilder<long>(r.ReadInt32());
        for (var i = 0; i < timestamps.Capacity; i++)
        {
            timestamps.Add(r.ReadInt64());
        }

        return new UserState(userId, lastApplied, timestamps.MoveToImmutable());
    }
}
