using System.Runtime.Serialization;
using Akka.Serialization;

namespace FraudActors.Engine.Serialization;

/// <summary>
/// The explicit, versioned binary form of every message that crosses nodes (docs/design.md:
/// "every message that crosses nodes has an explicit, versioned serializer; no type name is ever
/// read from the wire"). The manifest names the message and its format version
/// (<c>apply-tx.v1</c>); a format that changes gets a new manifest, written from then on, and the
/// old one stays readable here, so nodes of two versions still talk during a rolling restart. An
/// unknown manifest is refused with a <see cref="SerializationException"/>; nothing read names a
/// .NET type. <see cref="Hocon"/> binds exactly the types of the format table, so a bound type
/// always has a manifest, and makes Akka refuse every type without a binding
/// (<see cref="RefusedJsonSerializer"/>).
/// </summary>
/// <remarks>
/// <para>Covered, and why each crosses nodes (users and partition journals are entities of shard
/// regions, placed on the node that reads their partition, but any of them may run elsewhere
/// while shards move):</para>
/// <list type="bullet">
/// <item>to a user through the <c>user</c> region, and its replies: <c>ApplyTransaction</c> (with its
/// <c>Transaction</c>), <c>AdvanceTime</c>, <c>CheckpointBarrier</c>, <c>GetUserState</c> (the HTTP
/// API of any node), <c>StopUser</c> (sharding's hand-off message); <c>TransactionApplied</c> with
/// its <c>Alert</c>s and <c>WindowResult</c>s, <c>TimeAdvanced</c>, <c>UserCheckpointState</c>,
/// <c>CurrentUserState</c>;</item>
/// <item>to a user's host: <c>WakeUserHost</c> and <c>UserHostAwake</c> (UserHostProtocol.cs);</item>
/// <item>to a partition journal through the <c>partition-journal</c> region, in a
/// <c>JournalEnvelope</c> (its inner message by the serializer Akka binds to its type, recorded as
/// serializer id and manifest, as Akka's own envelopes do), and the replies: <c>WriteCheckpoint</c>,
/// <c>CheckpointWritten</c>, <c>LoadUser</c>, <c>UserLoaded</c>, <c>HandOverUser</c>,
/// <c>UserHandedOver</c>, <c>RewindPartition</c>, <c>GetPartitionCheckpoint</c>,
/// <c>PartitionCheckpoint</c> (with its <c>UserTimerDue</c>s), <c>GetCommittedUsers</c>,
/// <c>CommittedUsers</c> (with <c>UserSnapshot</c>s), <c>StopJournal</c>;</item>
/// <item>Akka's <c>Status.Failure</c>: a journal's answer while it restarts
/// (<c>JournalRestartingException</c>, which a rewind waits out) or when a write failed. Akka's
/// own form of it names the exception's type and rebuilds it by reflection; here it carries the
/// type's name as text for the log and the message, and comes back as
/// <see cref="RemoteFailureException"/> (or <c>JournalRestartingException</c>, which the ingest
/// retries on).</item>
/// </list>
/// <para>Local, never sent to another node, so not bound: the ingest stream's elements
/// (<c>KafkaRecord</c>, ticks, partition events), its reply targets' internals, <c>DrainOutbox</c>
/// and <c>OutboxDrained</c> (the singleton manager's termination message to its own child, and the
/// node's ask of its own singleton), and the actors' private messages to themselves
/// (<c>UserHost.Sweep</c>, <c>UserActor.TakeCarried</c> and <c>LoadAgain</c>,
/// <c>PartitionJournal.RetryDelete</c>, <c>OutboxSingleton.Started</c>), which are marked
/// <see cref="INoSerializationVerificationNeeded"/>. The persisted events have their own
/// serializer (<see cref="Checkpoints.CheckpointSerializer"/>); Akka's cluster, sharding,
/// singleton, distributed data and persistence messages have Akka's protobuf serializers.</para>
/// </remarks>
public sealed partial class WireSerializer : SerializerWithStringManifest
{
    /// <summary>Ours for good: a node must read what another node's version wrote with it. Not Akka's (0–100) nor the checkpoints' 4711.</summary>
    public const int SerializerId = 4712;

    private static readonly Format[] Formats = CreateFormats();
    private static readonly Dictionary<Type, Format> ByType = Formats.Where(f => f.Write is not null).ToDictionary(f => f.Type);
    private static readonly Dictionary<string, Format> ByManifest = Formats.ToDictionary(f => f.Manifest, StringComparer.Ordinal);

    /// <summary>The types this serializer writes (each with its current manifest).</summary>
    public static IReadOnlyCollection<Type> BoundTypes => ByType.Keys;

    /// <summary>
    /// Binds every message that crosses nodes to this serializer, and refuses the rest: Akka
    /// throws for a type without a binding instead of falling back to <c>System.Object</c>'s
    /// serializer, and the <c>json</c> serializer (Newtonsoft, id 1, which reads .NET type names)
    /// is replaced by one that refuses both ways, so a payload another node marked as JSON is
    /// never read. Bindings use Akka's own key form (type, assembly name), so the one for
    /// <c>Status.Failure</c> replaces Akka.Remote's rather than competing with it.
    /// </summary>
    public static string Hocon => $$"""
        akka.actor {
          serializers.fraud-wire = "{{Key(typeof(WireSerializer))}}"
          serializers.json = "{{Key(typeof(RefusedJsonSerializer))}}"
          serialization-settings.allow-unregistered-types = off
          serialization-bindings {
        {{string.Join("\n", ByType.Keys.Select(t => $"    \"{Key(t)}\" = fraud-wire"))}}
          }
        }
        """;

    public WireSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => FormatOf(o).Manifest;

    public override byte[] ToBinary(object obj)
    {
        var format = FormatOf(obj);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            format.Write!(this, w, obj);
        }

        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!ByManifest.TryGetValue(manifest, out var format))
        {
            throw new SerializationException($"unknown wire manifest '{manifest}' for serializer {SerializerId}: sent by a newer FraudActors, or not a FraudActors message; refused");
        }

        using var r = new BinaryReader(new MemoryStream(bytes));
        object message;
        try
        {
            message = format.Read(this, r);
        }
        catch (EndOfStreamException e)
        {
            throw new SerializationException($"wire message '{manifest}' is cut short ({bytes.Length} bytes)", e);
        }

        return r.BaseStream.Position == bytes.Length
            ? message
            : throw new SerializationException($"wire message '{manifest}' has {bytes.Length - r.BaseStream.Position} bytes more than its format: refused");
    }

    private static Format FormatOf(object o) =>
        ByType.TryGetValue(o.GetType(), out var format)
            ? format
            : throw new SerializationException($"{o.GetType()} has no wire format in {nameof(WireSerializer)}: bind it only with a manifest of its own");

    /// <summary>A type as Akka's reference configuration names it in bindings and serializers.</summary>
    private static string Key(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    /// <summary>
    /// One manifest: the type it reads, how (and, for the current version, how it is written;
    /// an older version that is only read has no writer).
    /// </summary>
    private sealed record Format(string Manifest, Type Type, Action<WireSerializer, BinaryWriter, object>? Write, Func<WireSerializer, BinaryReader, object> Read)
    {
        public static Format Of<T>(string manifest, Action<BinaryWriter, T> write, Func<BinaryReader, T> read)
            where T : notnull =>
            new(manifest, typeof(T), (_, w, o) => write(w, (T)o), (_, r) => read(r));

        /// <summary>An older version of a message, only read (from nodes not yet upgraded).</summary>
        public static Format ReadOnly<T>(string manifest, Func<BinaryReader, T> read)
            where T : notnull =>
            new(manifest, typeof(T), null, (_, r) => read(r));

        /// <summary>A message without fields: always the same instance.</summary>
        public static Format Singleton<T>(string manifest, T instance)
            where T : notnull =>
            new(manifest, typeof(T), (_, _, _) => { }, (_, _) => instance);
    }
}
