using FraudActors.Engine.Outbox;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows.Output;

/// <summary>The window results table in memory, for <c>--store memory</c>: the same rules, gone with the process.</summary>
public sealed class MemoryWindowResultStore : IWindowResultStore
{
    private readonly MemoryOutboxTable<OutboxRow> _table = new();

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> AddAsync(WindowResult result, string topic, CancellationToken cancellationToken) =>
        Task.FromResult(_table.TryAdd(result.ResultId, seq => new OutboxRow(seq, result.ResultId, topic, result.UserId, WindowResultJson.Serialize(result))));

    public Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken) => Task.FromResult(_table.Unpublished(limit));

    public Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        _table.MarkPublished(ids);
        return Task.CompletedTask;
    }

    public Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken) => Task.FromResult(_table.Count());

    public Task<IReadOnlyList<string>> ResultIdsAsync(CancellationToken cancellationToken) => Task.FromResult(_table.Ids());
}
