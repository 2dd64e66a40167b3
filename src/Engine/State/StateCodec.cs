using System.Collections.Immutable;

namespace FraudActors.Engine.State;

/// <summary>
/// The binary form of each keyed-state kind inside a user's versioned state (UserStateCodec):
/// the kind's own fields, then its elements through the writers the rule gives. Changing a
/// layout here means a new user state version.
/// </summary>
public static class StateCodec
{
    public static readonly Action<BinaryWriter, long> Int64 = (w, v) => w.Write(v);
    public static readonly Func<BinaryReader, long> ReadInt64 = r => r.ReadInt64();
    public static readonly Action<BinaryWriter, decimal> Decimal = (w, v) => w.Write(v);
    public static readonly Func<BinaryReader, decimal> ReadDecimal = r => r.ReadDecimal();
    public static readonly Action<BinaryWriter, string> String = (w, v) => w.Write(v);
    public static readonly Func<BinaryReader, string> ReadString = r => r.ReadString();
    public static readonly Action<BinaryWriter, bool> Boolean = (w, v) => w.Write(v);
    public static readonly Func<BinaryReader, bool> ReadBoolean = r => r.ReadBoolean();

    public static readonly Action<BinaryWriter, RunningStats> Stats = (w, s) =>
    {
        w.Write(s.Count);
        w.Write(s.Sum);
        w.Write(s.Min);
        w.Write(s.Max);
    };

    public static readonly Func<BinaryReader, RunningStats> ReadStats = r => new RunningStats(r.ReadInt64(), r.ReadDecimal(), r.ReadDecimal(), r.ReadDecimal());

    public static void Write<T>(BinaryWriter w, ValueState<T> state, Action<BinaryWriter, T> write)
    {
        w.Write(state.HasValue);
        if (state.HasValue)
        {
            w.Write(state.UpdatedAtMs);
            write(w, state.Value);
        }
    }

    public static ValueState<T> ReadValue<T>(BinaryReader r, Func<BinaryReader, T> read)
    {
        if (!r.ReadBoolean())
        {
            return ValueState<T>.Empty;
        }

        var updatedAt = r.ReadInt64();
        return new ValueState<T>(true, read(r), updatedAt);
    }

    public static void Write<T>(BinaryWriter w, ReducingState<T> state, Action<BinaryWriter, T> write) =>
        Write(w, new ValueState<T>(state.HasValue, state.Value, state.UpdatedAtMs), write);

    public static ReducingState<T> ReadReducing<T>(BinaryReader r, Func<BinaryReader, T> read)
    {
        var value = ReadValue(r, read);
        return new ReducingState<T>(value.HasValue, value.Value, value.UpdatedAtMs);
    }

    public static void Write<T>(BinaryWriter w, ListState<T> state, Action<BinaryWriter, T> write)
    {
        var items = state.Items ?? [];
        w.Write(items.Count);
        if (items.Count > 0)
        {
            w.Write(state.UpdatedAtMs);
            foreach (var item in items)
            {
                write(w, item);
            }
        }
    }

    public static ListState<T> ReadList<T>(BinaryReader r, Func<BinaryReader, T> read)
    {
        var count = r.ReadInt32();
        if (count == 0)
        {
            return ListState<T>.Empty;
        }

        var updatedAt = r.ReadInt64();
        var items = ImmutableList.CreateBuilder<T>();
        for (var i = 0; i < count; i++)
        {
            items.Add(read(r));
        }

        return new ListState<T>(items.ToImmutable(), updatedAt);
    }

    public static void Write<TKey, TValue>(BinaryWriter w, MapState<TKey, TValue> state, Action<BinaryWriter, TKey> writeKey, Action<BinaryWriter, TValue> writeValue)
        where TKey : notnull
    {
        w.Write(state.Count);
        foreach (var (key, (value, updatedAt)) in state.Entries ?? MapState<TKey, TValue>.NoEntries)
        {
            writeKey(w, key);
            writeValue(w, value);
            w.Write(updatedAt);
        }
    }

    public static MapState<TKey, TValue> ReadMap<TKey, TValue>(BinaryReader r, Func<BinaryReader, TKey> readKey, Func<BinaryReader, TValue> readValue)
        where TKey : notnull
    {
        var count = r.ReadInt32();
        if (count == 0)
        {
            return MapState<TKey, TValue>.Empty;
        }

        var entries = MapState<TKey, TValue>.NoEntries.ToBuilder();
        for (var i = 0; i < count; i++)
        {
            var key = readKey(r);
            var value = readValue(r);
            entries[key] = (value, r.ReadInt64());
        }

        return new MapState<TKey, TValue>(entries.ToImmutable());
    }
}
