namespace FraudActors.Engine.Outbox;

/// <summary>A row of an outbox table: its place in insertion order, its unique id, and the record to publish.</summary>
public sealed record OutboxRow(long Seq, string Id, string Topic, string Key, byte[] Payload);

/// <summary>
/// A table that holds every record once, by a deterministic id (a replay inserts nothing), with a
/// flag saying whether it reached its topic. <see cref="OutboxPublisher"/> reads and marks it.
/// </summary>
public interface IOutboxStore
{
    /// <summary>Creates the table if it does not exist.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The oldest rows not yet published, in insertion order.</summary>
    Task<IReadOnlyList<OutboxRow>> UnpublishedAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Marks the rows with these ids published; ids the table does not hold are ignored.</summary>
    Task MarkPublishedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);
}
