namespace FraudActors.Engine.Outbox;

/// <summary>
/// An outbox table of one kind of record (<see cref="Codec"/>): every record once, by its
/// deterministic id (a replay inserts nothing), with a flag saying whether it reached its topic.
/// The pipeline's side inserts; <see cref="OutboxPublisher"/> reads and marks.
/// </summary>
public interface IOutboxTable<T> : IOutboxStore
{
    OutboxCodec<T> Codec { get; }

    /// <summary>Inserts the records in their order, each unless its id is already there; returns those that were new, in order.</summary>
    Task<IReadOnlyList<T>> AddRangeAsync(IReadOnlyList<T> records, CancellationToken cancellationToken);

    /// <summary>Inserts the record unless its id is already there; true when it was new.</summary>
    async Task<bool> AddAsync(T record, CancellationToken cancellationToken) =>
        (await AddRangeAsync([record], cancellationToken).ConfigureAwait(false)).Count == 1;

    /// <summary>How many records the table holds, and how many of them are published.</summary>
    Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken);

    /// <summary>Every id in the table, published or not, in insertion order.</summary>
    Task<IReadOnlyList<string>> IdsAsync(CancellationToken cancellationToken);
}
