using System.Buffers;
using System.Text.Json;

namespace FraudActors.Messages.Serialization;

/// <summary>
/// What the JSON wire forms of the outputs share: one object written with
/// <see cref="Utf8JsonWriter"/>, and read back field by field, every fault a
/// <see cref="FormatException"/> that names the record and the field.
/// </summary>
public static class WireJson
{
    /// <summary>The object whose fields <paramref name="fields"/> writes, as UTF-8 bytes.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses <paramref name="utf8"/> as an object and makes the record of its fields.</summary>
    /// <param name="what">The record as the error names it, e.g. "an alert".</param>
    public static T Read<T>(ReadOnlySpan<byte> utf8, string what, Func<Fields, T> read)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"not {what}: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            return root.ValueKind == JsonValueKind.Object
                ? read(new Fields(root, what))
                : throw new FormatException($"not {what}: a JSON {root.ValueKind} instead of an object");
        }
    }

    /// <summary>The fields of one object being read.</summary>
    public readonly struct Fields(JsonElement root, string what)
    {
        /// <summary>The field's value; a missing or null field, or one <paramref name="read"/> refuses, is a <see cref="FormatException"/> naming it.</summary>
        public T Required<T>(string name, Func<JsonElement, T> read) =>
            root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
                ? Value(name, value, read)
                : throw Invalid($"field '{name}' is missing");

        /// <summary>The field's value, or the default when it is missing or null.</summary>
        public T? Optional<T>(string name, Func<JsonElement, T> read) =>
            root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? Value(name, value, read) : default;

        /// <summary>An error about this record: <c>not an alert: …</c>.</summary>
        public FormatException Invalid(string problem) => new($"not {what}: {problem}");

        private T Value<T>(string name, JsonElement value, Func<JsonElement, T> read)
        {
            try
            {
                return read(value);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new FormatException($"not {what}: field '{name}' is not valid ({value.GetRawText()})", e);
            }
        }
    }
}
