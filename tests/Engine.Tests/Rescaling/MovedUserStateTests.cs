using FraudActors.Engine.Rescaling;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Rescaling;

/// <summary>A moved user's state: its old partition's offset forgotten, the rest as it was.</summary>
public sealed class MovedUserStateTests
{
    [Fact]
    public void A_moved_state_has_applied_nothing_of_its_new_partition_and_keeps_everything_else()
    {
        var state = UserState.Empty("u990") with { LastAppliedOffset = 176, TransactionCount = 12 };
        var encoded = UserStateCodec.Encode(state);

        var moved = MovedUserState.ForgetOffset(new UserSnapshot("u990", encoded));

        var decoded = UserStateCodec.Decode(moved.State);
        Assert.Equal(MovedUserState.NothingApplied, decoded.LastAppliedOffset);
        Assert.Equal(UserState.Empty("u990").LastAppliedOffset, decoded.LastAppliedOffset);
        Assert.Equal((state.UserId, state.TransactionCount), (decoded.UserId, decoded.TransactionCount));
        Assert.Equal(UserStateCodec.Encode(state with { LastAppliedOffset = -1 }), moved.State);
        Assert.Equal(176, UserStateCodec.Decode(encoded).LastAppliedOffset);
    }

    [Fact]
    public void An_unknown_version_or_another_users_state_is_refused()
    {
        Assert.Throws<FormatException>(() => MovedUserState.ForgetOffset(new UserSnapshot("u1", [99, 0, 0])));
        Assert.Throws<FormatException>(() => MovedUserState.ForgetOffset(new UserSnapshot("u1", UserStateCodec.Encode(UserState.Empty("u2")))));
    }
}
