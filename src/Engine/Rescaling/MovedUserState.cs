using FraudActors.Engine.Users;

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
    public static UserSnapshot ForgetOffset(UserSnapshot user) => user with { State = UserStateCodec.WithNothingApplied(user.UserId, user.State) };
}
