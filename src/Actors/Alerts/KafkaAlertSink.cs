using System.Text;
using Confluent.Kafka;
using FraudActors.Messages.Alerts;

namespace FraudActors.Actors.Alerts;

/// <summary>
/// Publishes alerts to the alerts topic, keyed by user, with the alert id also in a header so a
/// consumer can deduplicate without parsing the value. The producer is idempotent, so a retried
/// send never duplicates an alert on the topic.
/// </summary>
public sealed class KafkaAlertSink(IProducer<byte[]?, byte[]> producer, string topic, Action<Alert>? published = null) : IAlertSink
{
    public const string AlertIdHeader = "alert_id";

    public async Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        var message = new Message<byte[]?, byte[]>
        {
            Key = Encoding.UTF8.GetBytes(alert.UserId),
            Value = AlertJson.Serialize(alert),
            Headers = new Headers { { AlertIdHeader, Encoding.UTF8.GetBytes(alert.AlertId) } },
        };
        await producer.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false);
        published?.Invoke(alert);
    }
}
