using FraudActors.Messages.Alerts;

namespace FraudActors.Actors.Alerts;

/// <summary>Where alerts go. A record counts as handled only after its alerts' publish completed.</summary>
public interface IAlertSink
{
    Task PublishAsync(Alert alert, CancellationToken cancellationToken);
}
