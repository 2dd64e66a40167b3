using FraudActors.Messages.Alerts;

namespace FraudActors.Actors.Alerts;

/// <summary>The alerts table in memory, for <c>--store memory</c>: the same rules, gone with the process.</summary>
public sealed class MemoryAlertStore : IAlertStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (StoredAlert Row, bool Published)> _rows = new(StringComparer.Ordinal);
    private long _seq;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> AddAsync(Alert alert, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_rows.TryAdd(alert.AlertId, (new StoredAlert(++_seq, alert.AlertId, alert.UserId, AlertJson.Serialize(alert)), false)));
        }
    }

    public Task<IReadOnlyList<StoredAlert>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<StoredAlert>>([.. _rows.Values.Where(r => !r.Published).Select(r => r.Row).OrderBy(r => r.Seq).Take(limit)]);
        }
    }

    public Task MarkPublishedAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var id in alertIds)
            {
                if (_rows.TryGetValue(id, out var row))
                {
                    _rows[id] = (row.Row, true);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> AlertIdsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. _rows.Keys]);
        }
    }

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(((long)_rows.Count, (long)_rows.Values.Count(r => r.Published)));
        }
    }
}
