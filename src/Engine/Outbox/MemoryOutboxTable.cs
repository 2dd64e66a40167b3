namespace FraudActors.Engine.Outbox;

/// <summary>
/// An outbox table in memory, for <c>--store memory</c>: each record once by its id, in insertion
/// order, with a published flag — the same rules as <see cref="SqlOutboxTable{T}"/>, gone with the process.
/// </summary>
public sealed class MemoryOutboxTable<T>(OutboxCodec<T> codec) : IOutboxTable<T>
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _rows = [];
    private readonly Dictionary<string, Entry> _byId = new(StringComparer.Ordinal);

    public OutboxCodec<T> Codec => codec;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<T>> AddRangeAsync(IReadOnlyList<T> records, CancellationToken cancellationToken)
    {
        var added = new List<T>();
        lock (_gate)
        {
            foreach (var record in records)
            {
                var row = codec.Encode(record);
                if (_byId.ContainsKey(row.Id))
                {
                    continue;
                }

                var entry = new Entry(new OutboxRow(_rows.Count + 1, row.Id, row.Topic, row.Key, row.Payload));
                _rows.Add(entry);
                _byId.Add(row.Id, entry);
                added.Add(record);
            }
        }

        return Task.FromResult<IReadOnlyList<T>>(added);
    }

    public Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<OutboxRow>>([.. _rows.Where(r => !r.Published).Select(r => r.Row).Take(limit)]);
        }
    }

    public Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
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

        return Task.CompletedTask;
    }

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<(long, long)>((_rows.Count, _rows.Count(r => r.Published)));
        }
    }

    public Task<IReadOnlyList<string>> IdsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. _rows.Select(r => r.Row.Id)]);
        }
    }

    private sealed class Entry(OutboxRow row)
    {
        public OutboxRow Row { get; } = row;

        public bool Published { get; set; }
    }
}
