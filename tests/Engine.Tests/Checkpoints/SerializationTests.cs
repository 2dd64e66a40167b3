using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>The persisted formats: explicit, versioned, and readable as written today.</summary>
public sealed class SerializationTests() : TestKit(CheckpointSerializer.Hocon)
{
    [Fact]
    public void User_state_round_trips()
    {
        var state = new UserState("u901", 41) { TransactionCount = 17 }.WithRuleState(SlidingVelocityRule.RuleName, ImmutableArray.Create(1000L, 2000, 3000));
        var back = UserStateCodec.Decode(UserStateCodec.Encode(state));
        Assert.Equal(UserStateCodec.Version4, UserStateCodec.Encode(state)[0]);
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

        // Written again, it is the current version with the same content.
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
        (object Event, string Manifest)[] events =
        [
            (new CheckpointChunk(3, 1, [new UserSnapshot("u1", [1, 2, 3]), new UserSnapshot("u2", [])]), "chunk.v1"),
            (new CheckpointCommitted(3, 1234, 2, 3), "commit.v3"),
            (new CheckpointCommitted(3, 1234, 2, 3, 1_700_000_000_123), "commit.v3"),
            (new CheckpointCommitted(3, 1234, 2, 3, -5), "commit.v3"),
            (new CheckpointCommitted(3, 1234, 2, 3, 7) { Rules = RecordedRules }, "commit.v3"),
            (new PartitionSnapshot(3, 1234, [new UserSnapshot("u1", [1, 2, 3])]), "snapshot.v1"),
            (new CheckpointCompacted(3, 1234, 5, 2), "compacted.v2"),
            (new CheckpointCompacted(3, 1234, 5, 2, 1_700_000_000_123), "compacted.v2"),
        ];
        foreach (var (e, expectedManifest) in events)
        {
            var serializer = serialization.FindSerializerFor(e);
            Assert.IsType<CheckpointSerializer>(serializer);
            var manifest = ((CheckpointSerializer)serializer).Manifest(e);
            Assert.Equal(expectedManifest, manifest);
            var back = serialization.Deserialize(serializer.ToBinary(e), serializer.Identifier, manifest);
            Assert.Equivalent(e, back, strict: true);
        }
    }

    [Fact]
    public void Version_1_commit_and_compaction_bytes_written_before_watermarks_still_load_without_one()
    {
        // commit.v1: epoch 3, next offset 1234, 2 users, 3 bytes (int64, int64, int32, int64, little-endian).
        byte[] commit = [.. Le(3L), .. Le(1234L), .. Le(2), .. Le(3L)];
        // compacted.v1: epoch 3, next offset 1234, 5 users, 2 chunks (int64, int64, int32, int32).
        byte[] compacted = [.. Le(3L), .. Le(1234L), .. Le(5), .. Le(2)];

        var serializer = new CheckpointSerializer((ExtendedActorSystem)Sys);
        Assert.Equal(new CheckpointCommitted(3, 1234, 2, 3, WatermarkMs: null), serializer.FromBinary(commit, CheckpointSerializer.CommitV1));
        Assert.Equal(new CheckpointCompacted(3, 1234, 5, 2, WatermarkMs: null), serializer.FromBinary(compacted, CheckpointSerializer.CompactedV1));
    }

    [Fact]
    public void Version_2_commit_bytes_have_a_presence_byte_before_the_watermark_and_version_3_one_before_the_rules()
    {
        var serializer = new CheckpointSerializer((ExtendedActorSystem)Sys);
        byte[] v1Part = [.. Le(3L), .. Le(1234L), .. Le(2), .. Le(3L)];
        Assert.Equal(new CheckpointCommitted(3, 1234, 2, 3, 99), serializer.FromBinary([.. v1Part, 1, .. Le(99L)], CheckpointSerializer.CommitV2));
        Assert.Equal([.. v1Part, 0, 0], serializer.ToBinary(new CheckpointCommitted(3, 1234, 2, 3)));
        Assert.Equal([.. v1Part, 1, .. Le(99L), 0], serializer.ToBinary(new CheckpointCommitted(3, 1234, 2, 3, 99)));
    }

    /// <summary>Rules in force as a commit records them: sliding-velocity changed at offset 40 in epoch 9, the others configured.</summary>
    private static readonly FraudActors.Messages.Rules.RecordedRules RecordedRules = new(
    [
        new(new("sliding-velocity", true, [new("threshold", "2"), new("window", "60s")], 5), 40, 9),
        new(new("timer-velocity", false, [new("threshold", "5"), new("window", "60s")], 0), 0, null),
    ]);

    [Fact]
    public void An_unknown_manifest_is_refused()
    {
        var serializer = new CheckpointSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "chunk.v9"));
    }

    private static byte[] Le(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Le(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }
}
