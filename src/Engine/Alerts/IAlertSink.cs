using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Alerts;

/// <summary>Where alerts go (the run's OutputWriter calls it behind the stream): a checkpoint commits past a record only after its alerts' publish completed.</summary>
public interface IAlertSink
{
    Task PublishAsync(Alert alert, CancellationToken cancellationToken);

    /// <summary>The alerts of many records, in record order: one call (and, for the outbox, one insert) for all.</summary>
    async Task PublishAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        foreach (var alert in alerts)
        {
            await PublishAsync(alert, cancellationToken).ConfigureAwait(false);
        }
    }
}
