using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows;

/// <summary>
/// Where the pipeline hands window results, in stream order, before a checkpoint may commit past
/// the record or watermark that produced them: the outbox table, published to the window topics once.
/// </summary>
public interface IWindowResultSink
{
    Task PublishAsync(WindowResult result, CancellationToken cancellationToken);

    /// <summary>The results of a group of records, in order: one call (and, for the outbox, one insert) for all.</summary>
    async Task PublishAsync(IReadOnlyList<WindowResult> results, CancellationToken cancellationToken)
    {
        foreach (var result in results)
        {
            await PublishAsync(result, cancellationToken).ConfigureAwait(false);
        }
    }
}
