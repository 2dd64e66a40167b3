using Akka.Actor;
using Akka.Serialization;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// The explicit, versioned binary form of everything a partition journal persists. The manifest
/// names type and version (<c>chunk.v1</c>): a later format gets a new manifest and this class
/// keeps reading the old ones, so state written today loads after tomorrow's change. Version 2
/// of the commit and compaction events added the partition watermark; version 1 reads as none.
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

    public override string Manifest(object o) => o switch
    {
        CheckpointChunk => ChunkV1,
        CheckpointCommitted => CommitV2,
        PartitionSnapshot => SnapshotV1,
        CheckpointCompacted => CompactedV2,
        _ => throw new ArgumentException($"{o.GetType()} is not persisted by {nameof(CheckpointSerializer)}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            switch (obj)
            {
                case CheckpointChunk chunk:
                    w.Write(chunk.Epoch);
                    w.Write(chunk.Index);
                    WriteUsers(w, chunk.Users);
                    break;
                case CheckpointCommitted commit:
                    w.Write(commit.Epoch);
                    w.Write(commit.NextOffset);
                    w.Write(commit.Users);
                    w.Write(commit.Bytes);
                    WriteOptional(w, commit.WatermarkMs);
                    break;
                case CheckpointCompacted compacted:
                    w.Write(compacted.Epoch);
                    w.Write(compacted.NextOffset);
                    w.Write(compacted.Users);
                    w.Write(compacted.Chunks);
                    WriteOptional(w, compacted.WatermarkMs);
                    break;
                case PartitionSnapshot snapshot:
                    w.Write(snapshot.Epoch);
                    w.Write(snapshot.NextOffset);
                    WriteUsers(w, snapshot.Users);
                    break;
                default:
                    throw new ArgumentException($"{obj.GetType()} is not persisted by {nameof(CheckpointSerializer)}", nameof(obj));
            }
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
            CommitV2 => new CheckpointCommitted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), ReadOptional(r)),
            CompactedV2 => new CheckpointCompacted(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), ReadOptional(r)),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown checkpoint manifest '{manifest}': written by a newer FraudActors?"),
        };
    }

    /// <summary>A presence byte, then the value only when there is one.</summary>
    private static void WriteOptional(BinaryWriter w, long? value)
    {
        w.Write(value.HasValue);
        if (value is { } v)
        {
            w.Write(v);
        }
    }

    private static long? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadInt64() : null;

    private static void WriteUsers(BinaryWriter w, IReadOnlyList<UserSnapshot> users)
    {
        w.Write(users.Count);
        foreach (var user in users)
        {
            w.Write(user.UserId);
            w.Write(user.State.Length);
            w.Write(user.State);
        }
    }

    private static List<UserSnapshot> ReadUsers(BinaryReader r)
    {
        var count = r.ReadInt32();
        var users = new List<UserSnapshot>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.ReadString();
            users.Add(new UserSnapshot(id, r.ReadBytes(r.ReadInt32())));
        }

        return users;
    }
}
