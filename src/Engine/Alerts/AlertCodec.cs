using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Alerts;

/// <summary>
/// The alerts' outbox: the <c>alerts</c> table (<c>alert_id</c>, <c>user_id</c>, <c>payload</c>),
/// every alert to the one alerts topic as <see cref="AlertJson"/>, keyed by its user, its id in
/// the header <c>alert_id</c>.
/// </summary>
public static class AlertCodec
{
    private static readonly OutboxTableShape Table = new("alerts", "alert_id", [], TopicColumn: false);

    public static OutboxCodec<Alert> For(string topic) =>
        new("Alert outbox", Table, [topic], alert => new OutboxRecord(alert.AlertId, topic, alert.UserId, AlertJson.Serialize(alert), []));
}
