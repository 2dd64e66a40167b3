using FraudActors.Actors.Outbox;
using FraudActors.Messages.Windows;

namespace FraudActors.Actors.Windows.Output;

/// <summary>The window results table in memory, for <c>--store memory</c>: the same rules, gone with the process.</summary>
public sealed class MemoryWindowResultStore : IWindowResultStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (OutboxRow Row, bool Published)> _rows = new(StringComparer.Ordinal);
    private long _seq;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> AddAsync(WindowResult result, string topic, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_rows.ContainsKey(result.ResultId))
            {
                return Task.FromResult(false);
            }

            _rows.Add(result.ResultId, (new OutboxRow(++_seq, result.ResultId, topic, result.UserId, WindowResultJson.Serialize(result)), false));
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<OutboxRow>>([.. _rows.Values.Where(r => !r.Published).Select(r => r.Row).OrderBy(r => r.Seq).Take(limit)]);
        }
    }

    public Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (_rows.TryGetValue(id, out var row))
                {
                    _rows[id] = (row.Row, true);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(((long)_rows.Count, (long)_rows.Values.Count(r => r.Published)));
        }
    }

    public Task<IReadOnlyList<string>> ResultIdsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. _rows.Values.OrderBy(r => r.Row.Seq).Select(r => r.Row.Id)]);
        }
    }
}
