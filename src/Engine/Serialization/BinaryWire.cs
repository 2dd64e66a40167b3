using System.Runtime.Serialization;

namespace FraudActors.Engine.Serialization;

/// <summary>
/// The field encodings of <see cref="WireSerializer"/> and of the persisted events
/// (<see cref="Checkpoints.CheckpointSerializer"/>): little-endian fixed widths, a presence
/// byte before an optional value, a count before a list or byte array. Exact by construction: a
/// decimal keeps its scale (12.50 stays 12.50), a time keeps its ticks and its offset.
/// </summary>
internal static class BinaryWire
{
    public static void WriteOptional(this BinaryWriter w, long? value)
    {
        w.Write(value.HasValue);
        if (value is { } v)
        {
            w.Write(v);
        }
    }

    public static long? ReadOptionalInt64(this BinaryReader r) => r.ReadBoolean() ? r.ReadInt64() : null;

    public static void WriteOptional(this BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    public static string? ReadOptionalString(this BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    public static void WriteBytes(this BinaryWriter w, byte[] value)
    {
        w.Write(value.Length);
        w.Write(value);
    }

    public static byte[] ReadBytes(this BinaryReader r)
    {
        var length = r.ReadInt32();
        var bytes = length >= 0 && length <= r.BaseStream.Length - r.BaseStream.Position
            ? r.ReadBytes(length)
            : throw new SerializationException($"a byte array of {length} bytes where {r.BaseStream.Length - r.BaseStream.Position} remain");
        return bytes;
    }

    public static void WriteOptional(this BinaryWriter w, byte[]? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.WriteBytes(value);
        }
    }

    public static byte[]? ReadOptionalBytes(this BinaryReader r) => r.ReadBoolean() ? r.ReadBytes() : null;

    /// <summary>The clock ticks and the offset's ticks: the same instant with the same offset comes back.</summary>
    public static void WriteTime(this BinaryWriter w, DateTimeOffset value)
    {
        w.Write(value.Ticks);
        w.Write(value.Offset.Ticks);
    }

    public static DateTimeOffset ReadTime(this BinaryReader r)
    {
        var ticks = r.ReadInt64();
        return new DateTimeOffset(ticks, TimeSpan.FromTicks(r.ReadInt64()));
    }

    public static void WriteList<T>(this BinaryWriter w, IReadOnlyList<T> items, Action<BinaryWriter, T> write)
    {
        w.Write(items.Count);
        foreach (var item in items)
        {
            write(w, item);
        }
    }

    public static List<T> ReadList<T>(this BinaryReader r, Func<BinaryReader, T> read)
    {
        var count = r.ReadInt32();

        // Each item takes at least one byte: a count beyond what remains is a damaged or hostile message.
        if (count < 0 || count > r.BaseStream.Length - r.BaseStream.Position)
        {
            throw new SerializationException($"a list of {count} items where {r.BaseStream.Length - r.BaseStream.Position} bytes remain");
        }

        var items = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add(read(r));
        }

        return items;
    }
}
