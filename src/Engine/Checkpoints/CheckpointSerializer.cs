using Akka.Serialization;
using FraudActors.Engine.Serialization;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// The explicit, versioned binary form of everything a partition journal persists. The manifest
/// names type and version (<c>chunk.v1</c>): a later format gets a new manifest and this class
/// keeps reading the old ones, so state written today loads after tomorrow's change. Version 2
/// of the commit and compaction events added the partition watermark; version 1 reads as none.
/// Version 3 of the commit added the rules in force (docs/design.md, "Dynamic rules").
/// </summary>
public sealed class CheckpointSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4711;
    public const string ChunkV1 = "chunk.v1";
    public const string CommitV1 = "commit.v1";
    public const string SnapshotV1 = "snapshot.v1";
    public const string CompactedV1 = "compacted.v1";
    public const string CommitV2 = "commit.v2";
    public const string CompactedV2 = "compacted.v2";
    public const string CommitV3 = "commit.v3";

    /// <summary>HOCON that binds the persisted types to this serializer.</summary>
    public static string Hocon => $$"""
        akka.actor {
          serializers.fraud-checkpoint = "{{typeof(CheckpointSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            "{{typeof(CheckpointChunk).AssemblyQualifiedName}}" = fraud-checkpoint
            "{{typeof(CheckpointCommitted).AssemblyQualifiedName}}" = fraud-checkpoint
            "{{typeof(PartitionSnapshot).AssemblyQualifiedName}}" = fraud-checkpoint
            "{{typeof(CheckpointCompacted).AssemblyQualifiedName}}" = fraud-checkpoint
          }
        }
        """;

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => Current(o).Manifest;

    public override byte[] ToBinary(object obj)
    {
        var write = Current(obj).Write;
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            write(w);
        }

        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return manifest switch
        {
            ChunkV1 => new CheckpointChunk(r.ReadInt64(), r.ReadInt32(), ReadUsers(r)),
            CommitV1 => new CheckpointCommitted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64()),
            SnapshotV1 => new PartitionSnapshot(r.ReadInt64(), r.ReadInt64(), ReadUsers(r)),
            CompactedV1 => new CheckpointCompacted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32()),
            CommitV2 => new CheckpointCommitted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), r.ReadOptionalInt64()),
            CommitV3 => new CheckpointCommitted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), r.ReadOptionalInt64()) { Rules = r.ReadOptionalRecordedRules() },
            CompactedV2 => new CheckpointCompacted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadOptionalInt64()),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown checkpoint manifest '{manifest}': written by a newer FraudActors?"),
        };
    }

    /// <summary>
    /// The manifest each event is written with today, and how: one place for both, each writer
    /// field for field what the reader of that manifest above takes.
    /// </summary>
    private static (string Manifest, Action<BinaryWriter> Write) Current(object o) => o switch
    {
        CheckpointChunk c => (ChunkV1, w => { w.Write(c.Epoch); w.Write(c.Index); WriteUsers(w, c.Users); }),
        CheckpointCommitted c => (CommitV3, w => { w.Write(c.Epoch); w.Write(c.NextOffset); w.Write(c.Users); w.Write(c.Bytes); w.WriteOptional(c.WatermarkMs); w.WriteOptional(c.Rules); }),
        PartitionSnapshot s => (SnapshotV1, w => { w.Write(s.Epoch); w.Write(s.NextOffset); WriteUsers(w, s.Users); }),
        CheckpointCompacted c => (CompactedV2, w => { w.Write(c.Epoch); w.Write(c.NextOffset); w.Write(c.Users); w.Write(c.Chunks); w.WriteOptional(c.WatermarkMs); }),
        _ => throw new ArgumentException($"{o.GetType()} is not persisted by {nameof(CheckpointSerializer)}", nameof(o)),
    };

    /// <summary>A count, then each user's id and its state's length and bytes.</summary>
    private static void WriteUsers(BinaryWriter w, IReadOnlyList<UserSnapshot> users) =>
        w.WriteList(users, (w, user) => { w.Write(user.UserId); w.WriteBytes(user.State); });

    private static List<UserSnapshot> ReadUsers(BinaryReader r) =>
        r.ReadList(r => new UserSnapshot(r.ReadString(), r.ReadBytes()));
}
