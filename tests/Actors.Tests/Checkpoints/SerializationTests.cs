using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Users;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Actors.Tests.Checkpoints;

/// <summary>The persisted formats: explicit, versioned, and readable as written today.</summary>
public sealed class SerializationTests() : TestKit(CheckpointSerializer.Hocon)
{
    [Fact]
    public void User_state_round_trips()
    {
        var state = new UserState("u901", 41, [1000, 2000, 3000]) { TransactionCount = 17 };
        var back = UserStateCodec.Decode(UserStateCodec.Encode(state));
        Assert.Equal(UserStateCodec.Version2, UserStateCodec.Encode(state)[0]);
        Assert.Equal(17, back.TransactionCount);
        Assert.Equal(state.UserId, back.UserId);
        Assert.Equal(state.LastAppliedOffset, back.LastAppliedOffset);
        Assert.Equal(state.VelocityTimestamps.AsEnumerable(), back.VelocityTimestamps.AsEnumerable());
    }

    [Fact]
    public void Version_1_user_state_bytes_written_today_still_load()
    {
        // Version 1, "u1", last applied offset 7, two timestamps: 5 and 6.
        byte[] v1 = [1, 2, (byte)'u', (byte)'1', 7, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
        var state = UserStateCodec.Decode(v1);
        Assert.Equal(("u1", 7L, 0L), (state.UserId, state.LastAppliedOffset, state.TransactionCount));
        Assert.Equal([5L, 6L], state.VelocityTimestamps.AsEnumerable());

        // Written again, it is version 2 with the same content.
        var again = UserStateCodec.Decode(UserStateCodec.Encode(state));
        Assert.Equal(state.VelocityTimestamps.AsEnumerable(), again.VelocityTimestamps.AsEnumerable());
        Assert.Equal((state.UserId, state.LastAppliedOffset, state.TransactionCount), (again.UserId, again.LastAppliedOffset, again.TransactionCount));
    }

    [Fact]
    public void An_unknown_user_state_version_is_a_clear_error()
    {
        var e = Assert.Throws<FormatException>(() => UserStateCodec.Decode([9, 0]));
        Assert.Contains("version 9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Journal_events_use_the_checkpoint_serializer_and_round_trip()
    {
        var serialization = Sys.Serialization;
        object[] events =
        [
            new CheckpointChunk(3, 1, [new UserSnapshot("u1", [1, 2, 3]), new UserSnapshot("u2", [])]),
            new CheckpointCommitted(3, 1234, 2, 3),
            new PartitionSnapshot(3, 1234, [new UserSnapshot("u1", [1, 2, 3])]),
            new CheckpointCompacted(3, 1234, 5, 2),
        ];
        foreach (var e in events)
        {
            var serializer = serialization.FindSerializerFor(e);
            Assert.IsType<CheckpointSerializer>(serializer);
            var manifest = ((CheckpointSerializer)serializer).Manifest(e);
            Assert.EndsWith(".v1", manifest, StringComparison.Ordinal);
            var back = serialization.Deserialize(serializer.ToBinary(e), serializer.Identifier, manifest);
            Assert.Equivalent(e, back, strict: true);
        }
    }

    [Fact]
    public void An_unknown_manifest_is_refused()
    {
        var serializer = new CheckpointSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "chunk.v9"));
    }
}
