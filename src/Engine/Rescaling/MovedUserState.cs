using System.Buffers.Binary;

namespace FraudActors.Engine.Rescaling;

/// <summary>
/// A user's checkpointed state as it moves to another partition. Its last applied offset is an
/// offset of the partition it leaves; in its new partition offsets start again, and a record at
/// or below that number would be skipped as a replay (docs/design.md, section 4, step 4). So the
/// state arrives as a user that applied nothing there yet (-1, as a new user), everything else
/// byte for byte: no decode and encode, which would need the job's rule and window settings and
/// drop the state of rules they leave out.
/// </summary>
public static class MovedUserState
{
    /// <summary>What a user that applied nothing of its partition holds.</summary>
    public const long NothingApplied = -1;

    /// <exception cref="FormatException">A user state version this build does not know (1 to 4), or not this user's state.</exception>
    public static UserSnapshot ForgetOffset(UserSnapshot user)
    {
        // Versions 1 and 2: version, user id, last applied offset, …; 3 and 4 put the next timer
        // (8 bytes) before the user id (UserStateCodec).
        var state = user.State;
        var version = state.Length > 0 ? state[0] : (byte)0;
        if (version is not (1 or 2 or 3 or 4))
        {
            throw new FormatException($"user {user.UserId}: state version {version} is unknown to fraud rescale (it moves versions 1 to 4)");
        }

        using var reader = new BinaryReader(new MemoryStream(state, writable: false));
        reader.ReadByte();
        if (version >= 3)
        {
            reader.ReadInt64();
        }

        var id = reader.ReadString();
        if (id != user.UserId)
        {
            throw new FormatException($"user {user.UserId}: its state names user {id}");
        }

        var moved = (byte[])state.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(moved.AsSpan((int)reader.BaseStream.Position, sizeof(long)), NothingApplied);
        return user with { State = moved };
    }
}
