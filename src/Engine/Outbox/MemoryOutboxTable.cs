namespace FraudActors.Engine.Outbox;

/// <summary>
/// An outbox table in memory, for <c>--store memory</c>: each row once by its id, in insertion
/// order, with a published flag — the same rules as <see cref="SqlOutboxTable"/>, gone with the process.
/// </summary>
/// <typeparam name="TRow">The row as the store hands it out; it carries the <c>seq</c> given to <see cref="TryAdd"/>'s factory.</typeparam>
public sealed class MemoryOutboxTable<TRow>
{
    private readonly object _gate = new();
    private readonly List<Entry> _rows = [];
    private readonly Dictionary<string, Entry> _byId = new(StringComparer.Ordinal);

    /// <summary>Adds the row made by <paramref name="create"/> from the next <c>seq</c>, unless <paramref name="id"/> is already there; true when it was new.</summary>
    public bool TryAdd(string id, Func<long, TRow> create)
    {
        lock (_gate)
        {
            if (_byId.ContainsKey(id))
            {
                return false;
            }

            var entry = new Entry(id, create(_rows.Count + 1));
            _rows.Add(entry);
            _byId.Add(id, entry);
            return true;
        }
    }

    /// <summary>The oldest rows not yet published, in insertion order.</summary>
    public IReadOnlyList<TRow> Unpublished(int limit)
    {
        lock (_gate)
        {
            return [.. _rows.Where(r => !r.Published).Select(r => r.Row).Take(limit)];
        }
    }

    /// <summary>Marks the rows with these ids published; ids the table does not hold are ignored.</summary>
    public void MarkPublished(IEnumerable<string> ids)
    {
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (_byId.TryGetValue(id, out var entry))
                {
                    entry.Published = true;
                }
            }
        }
    }

    /// <summary>How many rows the table holds, and how many of them are published.</summary>
    public (long Total, long Published) Count()
    {
        lock (_gate)
        {
            return (_rows.Count, _rows.Count(r => r.Published));
        }
    }

    /// <summary>Every id in the table, published or not, in insertion order.</summary>
    public IReadOnlyList<string> Ids()
    {
        lock (_gate)
        {
            return [.. _rows.Select(r => r.Id)];
        }
    }

    private sealed class Entry(string id, TRow row)
    {
        public string Id { get; } = id;

        public TRow Row { get; } = row;

        public bool Published { get; set; }
    }
}
