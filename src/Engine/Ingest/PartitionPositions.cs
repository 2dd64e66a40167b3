using System.Collections.Concurrent;

namespace FraudActors.Engine.Ingest;

/// <summary>Where one assigned partition stands, as operators see it.</summary>
/// <param name="CurrentOffset">The next offset the source will emit (last read + 1); null before the first record.</param>
/// <param name="CommittedOffset">The last checkpoint's next offset; null before the first commit.</param>
/// <param name="WatermarkMs">The clock handed to the partition's users (event-time watermark or processing time); null before the first record.</param>
public sealed record PartitionPosition(int Partition, long? CurrentOffset, long? CommittedOffset, long? WatermarkMs);

/// <summary>
/// Read-only view of the running pipeline for the HTTP API and metrics: the assigned partitions,
/// their offsets and watermarks, and the partition of users that recently received records (so a
/// user's live actor can be found: its shard is its partition). Written by the pipeline, safe to
/// read from any thread.
/// </summary>
public sealed class PartitionPositions
{
    /// <summary>Users remembered per generation of the map; two generations are kept, so memory stays bounded.</summary>
    private const int UsersPerGeneration = 100_000;

    private readonly ConcurrentDictionary<int, Position> _partitions = new();
    private readonly object _usersGate = new();
    private ConcurrentDictionary<string, int> _users = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, int> _previousUsers = new(StringComparer.Ordinal);

    /// <summary>Users written to the index since it last turned over.</summary>
    private int _usersAdded;

    public IReadOnlyList<PartitionPosition> Snapshot() =>
        [.. _partitions.OrderBy(p => p.Key).Select(p => p.Value.ToRecord(p.Key))];

    public IReadOnlyCollection<int> Assigned => [.. _partitions.Keys.Order()];

    /// <summary>The partition a user's records came from, when the user received one recently; null otherwise.</summary>
    public int? PartitionOf(string userId) =>
        _users.TryGetValue(userId, out var p) || _previousUsers.TryGetValue(userId, out p) ? p : null;

    internal void Assign(int partition, long? committed)
    {
        var position = _partitions.GetOrAdd(partition, _ => new Position());
        position.Committed = committed ?? -1;
        position.Current = committed ?? -1;
    }

    internal void Revoked(int partition) => _partitions.TryRemove(partition, out _);

    internal void Read(int partition, string userId, long offset, long clockMs)
    {
        if (_partitions.TryGetValue(partition, out var position))
        {
            position.Current = offset + 1;
            position.Watermark = clockMs;
        }

        if (_users.TryGetValue(userId, out var known) && known == partition)
        {
            return; // a lock-free read: most records are of users already indexed
        }

        // Counted here, not with ConcurrentDictionary.Count, which takes every lock of the
        // dictionary (up to 1,024 past ~17,000 users): only the stream's turn writes.
        if (++_usersAdded > UsersPerGeneration)
        {
            lock (_usersGate)
            {
                _previousUsers = _users;
                _users = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            }

            _usersAdded = 1;
        }

        _users[userId] = partition;
    }

    internal void Skipped(int partition, long offset)
    {
        if (_partitions.TryGetValue(partition, out var position))
        {
            position.Current = offset + 1;
        }
    }

    internal void Clock(int partition, long clockMs)
    {
        if (clockMs != long.MinValue && _partitions.TryGetValue(partition, out var position))
        {
            position.Watermark = clockMs;
        }
    }

    internal void Committed(int partition, long nextOffset)
    {
        if (_partitions.TryGetValue(partition, out var position))
        {
            position.Committed = nextOffset;
        }
    }

    private sealed class Position
    {
        private long _current = -1;
        private long _committed = -1;
        private long _watermark = long.MinValue;

        public long Current
        {
            get => Interlocked.Read(ref _current);
            set => Interlocked.Exchange(ref _current, value);
        }

        public long Committed
        {
            get => Interlocked.Read(ref _committed);
            set => Interlocked.Exchange(ref _committed, value);
        }

        public long Watermark
        {
            get => Interlocked.Read(ref _watermark);
            set => Interlocked.Exchange(ref _watermark, value);
        }

        public PartitionPosition ToRecord(int partition) => new(
            partition,
            Current < 0 ? null : Current,
            Committed < 0 ? null : Committed,
            Watermark == long.MinValue ? null : Watermark);
    }
}
