using FraudActors.Engine.Users;

namespace FraudActors.Engine.Checkpoints.Store;

/// <summary>The store of <c>--store memory</c>: the journals' states in this process, lost with it like the in-memory journal.</summary>
public sealed class MemoryUserStateStore : IUserStateStore
{
    private readonly Dictionary<string, Table> _tables = new(StringComparer.Ordinal);

    public bool InMemory => true;

    public byte[]? ReadNow(string journal, string userId)
    {
        var table = TableOf(journal);
        lock (table)
        {
            return table.Users.TryGetValue(userId, out var stored) ? stored.State : null;
        }
    }

    public Task<StateMark> ReadMarkAsync(string journal, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            return Task.FromResult(new StateMark(table.Sequence, table.Users.Count));
        }
    }

    public Task<Dictionary<string, byte[]>> ReadAsync(string journal, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var userId in userIds)
            {
                if (table.Users.TryGetValue(userId, out var stored))
                {
                    found[userId] = stored.State;
                }
            }

            return Task.FromResult(found);
        }
    }

    public Task<StateMark> WriteAsync(string journal, StateWrite write, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            if (write.Replace && write.Sequence > table.Sequence)
            {
                table.Users.Clear();
            }

            foreach (var user in write.Users)
            {
                if (!table.Users.TryGetValue(user.UserId, out var stored) || stored.Sequence <= user.Sequence)
                {
                    table.Users[user.UserId] = user;
                }
            }

            table.Sequence = Math.Max(table.Sequence, write.Sequence);
            return Task.FromResult(new StateMark(table.Sequence, table.Users.Count));
        }
    }

    public Task<long> CountWithAsync(string journal, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            return Task.FromResult((long)table.Users.Count + userIds.Count(id => !table.Users.ContainsKey(id)));
        }
    }

    public Task ScanUserIdsAsync(string journal, Action<string> each, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            foreach (var userId in table.Users.Keys)
            {
                each(userId);
            }
        }

        return Task.CompletedTask;
    }

    public Task<List<UserTimerDue>> TimersAsync(string journal, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            return Task.FromResult(table.Users.Values
                .Select(u => UserStateCodec.PeekNextTimer(u.State) is { } next ? new UserTimerDue(u.UserId, next) : null)
                .OfType<UserTimerDue>()
                .ToList());
        }
    }

    public Task<List<UserSnapshot>> AllAsync(string journal, CancellationToken cancellationToken)
    {
        var table = TableOf(journal);
        lock (table)
        {
            return Task.FromResult(table.Users.Values.Select(u => new UserSnapshot(u.UserId, u.State)).ToList());
        }
    }

    private Table TableOf(string journal)
    {
        lock (_tables)
        {
            if (!_tables.TryGetValue(journal, out var table))
            {
                _tables[journal] = table = new Table();
            }

            return table;
        }
    }

    private sealed class Table
    {
        public Dictionary<string, StoredState> Users { get; } = new(StringComparer.Ordinal);

        public long Sequence { get; set; }
    }
}
