using System.Runtime.Serialization;
using FraudActors.Messages.Rules;

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

    /// <summary>A rule set: its rules, each with name, switch, version and parameters.</summary>
    public static void WriteRuleSet(this BinaryWriter w, RuleSet set) => w.WriteList(set.Specs, WriteRuleSpec);

    public static RuleSet ReadRuleSet(this BinaryReader r) => new(r.ReadList(ReadRuleSpec));

    public static void WriteOptional(this BinaryWriter w, RuleSet? set)
    {
        w.Write(set is not null);
        if (set is not null)
        {
            w.WriteRuleSet(set);
        }
    }

    public static RuleSet? ReadOptionalRuleSet(this BinaryReader r) => r.ReadBoolean() ? r.ReadRuleSet() : null;

    /// <summary>The rules a checkpoint records: each spec with the offset and epoch where it took effect.</summary>
    public static void WriteOptional(this BinaryWriter w, RecordedRules? rules)
    {
        w.Write(rules is not null);
        if (rules is not null)
        {
            w.WriteList(rules.Rules, (w, rule) =>
            {
                WriteRuleSpec(w, rule.Spec);
                w.Write(rule.SinceOffset);
                w.WriteOptional(rule.SinceEpoch);
            });
        }
    }

    public static RecordedRules? ReadOptionalRecordedRules(this BinaryReader r) =>
        r.ReadBoolean() ? new RecordedRules(r.ReadList(r => new RuleInForce(ReadRuleSpec(r), r.ReadInt64(), r.ReadOptionalInt64()))) : null;

    private static void WriteRuleSpec(BinaryWriter w, RuleSpec spec)
    {
        w.Write(spec.Name);
        w.Write(spec.Enabled);
        w.WriteList(spec.Params, (w, p) =>
        {
            w.Write(p.Key);
            w.Write(p.Value);
        });
        w.Write(spec.Version);
    }

    private static RuleSpec ReadRuleSpec(BinaryReader r) =>
        new(r.ReadString(), r.ReadBoolean(), r.ReadList(r => new KeyValuePair<string, string>(r.ReadString(), r.ReadString())), r.ReadInt64());
}
