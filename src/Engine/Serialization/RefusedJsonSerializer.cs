using System.Runtime.Serialization;
using Akka.Serialization;

namespace FraudActors.Engine.Serialization;

/// <summary>
/// Takes the place of Akka's default <c>json</c> serializer (Newtonsoft, identifier 1), which
/// writes and reads .NET type names: nothing goes out as JSON, and a payload another node marked
/// as JSON is refused before anything of it is read (docs/architecture.md, "Wire formats").
/// Akka's strict setting (<c>allow-unregistered-types = off</c>) already refuses unbound types on
/// the way out; this refuses them on the way in, where that setting does nothing. It keeps
/// identifier 1, so such a payload meets this refusal rather than "no serializer". A string
/// manifest, so Akka hands it the manifest as text instead of resolving it as a type first.
/// </summary>
public sealed class RefusedJsonSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka's identifier of the Newtonsoft JSON serializer.</summary>
    public const int NewtonsoftId = 1;

    /// <summary>How Akka makes the serializer named <c>json</c>: with its <c>serialization-settings.json</c>, of no use here.</summary>
    public RefusedJsonSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings)
        : this(system) => ArgumentNullException.ThrowIfNull(settings);

    public override int Identifier => NewtonsoftId;

    public override string Manifest(object o) => throw Refused(o.GetType().ToString());

    public override byte[] ToBinary(object obj) => throw Refused(obj.GetType().ToString());

    public override object FromBinary(byte[] bytes, string manifest) =>
        throw new SerializationException($"a message by Akka's JSON serializer (id {NewtonsoftId}, manifest '{manifest}'): FraudActors reads no type names from the wire; refused");

    private static SerializationException Refused(string type) =>
        new($"{type} has no explicit serializer (see {nameof(WireSerializer)}); FraudActors sends nothing as JSON with type names: refused");
}
