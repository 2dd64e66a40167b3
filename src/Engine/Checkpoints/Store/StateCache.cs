namespace FraudActors.Engine.Checkpoints.Store;

/// <summary>
/// The node's bounded cache of users' committed states (<c>fraud.state.cache-bytes</c>), shared
/// by its partition journals: least recently used first out. A user starting on the node reads
/// here before its journal asks the store. Holds only committed states; the journal puts a state
/// here once the store has it, or when it read it from the store.
/// </summary>
public sealed class StateCache(long capacityBytes)
{
    /// <summary>What an entry costs besides its state: its key's string, node, dictionary slot.</summary>
    private const int EntryOverhead = 96;

    private readonly object _gate = new();
    private readonly Dictionary<(string Journal, string User), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _order = new();
    private long _hits;
    private long _misses;

    public long CapacityBytes { get; } = capacityBytes;

    public long Bytes { get; private set; }

    /// <summary>The most <see cref="Bytes"/> ever held: never above <see cref="CapacityBytes"/>.</summary>
    public long PeakBytes { get; private set; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Reads that found their user, and reads that did not, since the start.</summary>
    public (long Hits, long Misses) Reads => (Interlocked.Read(ref _hits), Interlocked.Read(ref _misses));

    public bool TryGet(string journal, string userId, out byte[] state)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((journal, userId), out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                state = node.Value.State;
                Interlocked.Increment(ref _hits);
                return true;
            }
        }

        Interlocked.Increment(ref _misses);
        state = [];
        return false;
    }

    public void Put(string journal, string userId, byte[] state)
    {
        var cost = Cost(userId, state);
        if (cost > CapacityBytes)
        {
            Remove(journal, userId);
            return;
        }

        lock (_gate)
        {
            if (_entries.TryGetValue((journal, userId), out var old))
            {
                _order.Remove(old);
                Bytes -= Cost(userId, old.Value.State);
            }

            // Room first, then the entry: the cache never holds more than its capacity.
            while (Bytes + cost > CapacityBytes && _order.Last is { } last)
            {
                _order.RemoveLast();
                _entries.Remove((last.Value.Journal, last.Value.User));
                Bytes -= Cost(last.Value.User, last.Value.State);
            }

            _entries[(journal, userId)] = _order.AddFirst(new Entry(journal, userId, state));
            Bytes += cost;
            PeakBytes = Math.Max(PeakBytes, Bytes);
        }
    }

    public void Remove(string journal, string userId)
    {
        lock (_gate)
        {
            if (_entries.Remove((journal, userId), out var node))
            {
                _order.Remove(node);
                Bytes -= Cost(userId, node.Value.State);
            }
        }
    }

    /// <summary>Forgets every user of <paramref name="journal"/> (its whole state was replaced).</summary>
    public void RemoveJournal(string journal)
    {
        lock (_gate)
        {
            foreach (var key in _entries.Keys.Where(k => k.Journal == journal).ToList())
            {
                _entries.Remove(key, out var node);
                _order.Remove(node!);
                Bytes -= Cost(key.User, node!.Value.State);
            }
        }
    }

    private static long Cost(string userId, byte[] state) => state.Length + (2L * userId.Length) + EntryOverhead;

    private sealed record Entry(string Journal, string User, byte[] State);
}
