using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Serialization;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Serialization;

/// <summary>
/// The wire formats through Akka's serialization as a node configures it (a cluster provider, so
/// Akka.Remote's own bindings are there to be overridden): every message that crosses nodes by
/// its explicit serializer, content intact; everything else refused both ways.
/// </summary>
public sealed class WireSerializerTests() : TestKit(OneNodeCluster.Config)
{
    private Akka.Serialization.Serialization Serialization => Sys.Serialization;

    [Fact]
    public void Every_message_that_crosses_nodes_round_trips_with_its_content_through_its_explicit_serializer()
    {
        var samples = WireSamples.All().ToList();
        Assert.Equal(WireSerializer.BoundTypes.OrderBy(t => t.FullName), samples.Select(s => s.GetType()).Distinct().OrderBy(t => t.FullName));
        foreach (var message in samples)
        {
            var serializer = Assert.IsType<WireSerializer>(Serialization.FindSerializerFor(message));
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            Assert.Matches(@"^[a-z-]+\.v\d+$", manifest);
            var back = Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
            WireSamples.AssertSameContent(message, back);
        }
    }

    [Fact]
    public void A_failure_comes_back_as_text_never_as_the_type_it_names()
    {
        var failure = new Status.Failure(new InvalidOperationException("partition-3 could not write it: the server went away"));
        var serializer = Serialization.FindSerializerFor(failure);
        Assert.IsType<WireSerializer>(serializer);
        var back = Assert.IsType<Status.Failure>(Serialization.Deserialize(serializer.ToBinary(failure), serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, failure)));
        var cause = Assert.IsType<RemoteFailureException>(back.Cause);
        Assert.Equal(("System.InvalidOperationException", "partition-3 could not write it: the server went away"), (cause.RemoteType, cause.Message));
    }

    [Fact]
    public void An_unknown_manifest_a_short_message_and_trailing_bytes_are_refused()
    {
        var serializer = (WireSerializer)Serialization.FindSerializerFor(new LoadUser("u1", 1));
        var bytes = serializer.ToBinary(new LoadUser("u1", 1));
        Assert.Contains("apply-tx.v9", Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "apply-tx.v9")).Message, StringComparison.Ordinal);
        Assert.Throws<SerializationException>(() => Serialization.Deserialize(bytes, WireSerializer.SerializerId, "System.String, System.Private.CoreLib"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..^1], "load-user.v1"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary([.. bytes, 0], "load-user.v1"));
    }

    [Fact]
    public void A_type_without_an_explicit_serializer_is_refused_on_the_way_out_alone_or_in_a_journal_envelope()
    {
        Assert.Throws<SerializationException>(() => Serialization.FindSerializerFor(new NotOnTheWire("x")));
        var envelope = new JournalEnvelope(3, new NotOnTheWire("x"));
        var serializer = Serialization.FindSerializerFor(envelope);
        Assert.Throws<SerializationException>(() => serializer.ToBinary(envelope));
    }

    [Fact]
    public void A_payload_by_the_newtonsoft_serializer_is_not_deserialized()
    {
        // A real Newtonsoft payload, with the type names it writes, as another node would send it.
        var message = new ApplyTransaction(3, 41, new Transaction("u1", 1m, null, DateTimeOffset.UnixEpoch));
        var json = new NewtonSoftJsonSerializer((ExtendedActorSystem)Sys);
        var bytes = json.ToBinary(message);
        Assert.Equal(RefusedJsonSerializer.NewtonsoftId, json.Identifier);
        Assert.Contains("FraudActors.Messages.Commands.ApplyTransaction", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);

        // Akka's default configuration reads it; this one refuses it, with or without a manifest naming the type.
        using (var plain = ActorSystem.Create("plain", "akka.loglevel = WARNING"))
        {
            Assert.IsType<ApplyTransaction>(plain.Serialization.Deserialize(bytes, RefusedJsonSerializer.NewtonsoftId, typeof(ApplyTransaction).AssemblyQualifiedName!));
        }

        Assert.Throws<SerializationException>(() => Serialization.Deserialize(bytes, RefusedJsonSerializer.NewtonsoftId, typeof(ApplyTransaction).AssemblyQualifiedName!));
        Assert.Throws<SerializationException>(() => Serialization.Deserialize(bytes, RefusedJsonSerializer.NewtonsoftId, string.Empty));

        // Nor inside a journal envelope that names serializer 1 for its message.
        var wire = (WireSerializer)Serialization.FindSerializerFor(new JournalEnvelope(3, new LoadUser("u1")));
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(3);
            w.Write(RefusedJsonSerializer.NewtonsoftId);
            w.Write(typeof(ApplyTransaction).AssemblyQualifiedName!);
            w.Write(bytes.Length);
            w.Write(bytes);
        }

        Assert.Throws<SerializationException>(() => wire.FromBinary(stream.ToArray(), "journal-envelope.v1"));
    }

    [Fact]
    public void Persisted_events_keep_their_own_serializer()
    {
        Assert.IsType<CheckpointSerializer>(Serialization.FindSerializerFor(new CheckpointCommitted(1, 2, 3, 4)));
    }

    private sealed record NotOnTheWire(string Text);
}
