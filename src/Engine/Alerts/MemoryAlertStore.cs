using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Alerts;

/// <summary>The alerts table in memory, for <c>--store memory</c>: the same rules, gone with the process.</summary>
public sealed class MemoryAlertStore : IAlertStore
{
    private readonly MemoryOutboxTable<StoredAlert> _table = new();

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> AddAsync(Alert alert, CancellationToken cancellationToken) =>
        Task.FromResult(_table.TryAdd(alert.AlertId, seq => new StoredAlert(seq, alert.AlertId, alert.UserId, AlertJson.Serialize(alert))));

    public Task<IReadOnlyList<StoredAlert>> UnpublishedAsync(int limit, CancellationToken cancellationToken) => Task.FromResult(_table.Unpublished(limit));

    public Task MarkPublishedAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken)
    {
        _table.MarkPublished(alertIds);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> AlertIdsAsync(CancellationToken cancellationToken) => Task.FromResult(_table.Ids());

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken) => Task.FromResult(_table.Count());
}
