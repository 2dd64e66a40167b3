namespace FraudActors.Engine.Outbox;

/// <summary>
/// Where the pipeline hands its outputs of one kind (alerts, window results), in stream order,
/// behind the stream (the run's OutputWriter): a checkpoint commits past a record only after the
/// publish of its outputs completed. On a node it is the kind's <see cref="Outbox{T}"/>.
/// </summary>
public interface IOutputSink<in T>
{
    Task PublishAsync(T output, CancellationToken cancellationToken);

    /// <summary>The outputs of many records, in record order: one call (and, for the outbox, one insert) for all.</summary>
    async Task PublishAsync(IReadOnlyList<T> outputs, CancellationToken cancellationToken)
    {
        foreach (var output in outputs)
        {
            await PublishAsync(output, cancellationToken).ConfigureAwait(false);
        }
    }
}
