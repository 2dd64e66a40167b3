using FraudActors.Messages.Serialization;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Alerts;

/// <summary>The wire form of <see cref="Alert"/> on the alerts topic, with snake_case fields.</summary>
public static class AlertJson
{
    public static byte[] Serialize(Alert alert) => WireJson.Write(w =>
    {
        w.WriteString("alert_id", alert.AlertId);
        w.WriteString("rule", alert.Rule);
        w.WriteNumber("rule_version", alert.RuleVersion);
        w.WriteString("user_id", alert.UserId);
        w.WriteNumber("count", alert.Count);
        w.WriteNumber("window_ms", alert.WindowMs);
        w.WriteNumber("last_amount", alert.LastAmount.Normalize());
        w.WriteString("tx_ts", TransactionJson.FormatTimestamp(alert.TxTs));
        w.WriteNumber("partition", alert.Partition);
        w.WriteNumber("offset", alert.Offset);
        w.WriteString("detected_at", TransactionJson.FormatTimestamp(alert.DetectedAt));
        if (alert.TxId is not null)
        {
            w.WriteString("tx_id", alert.TxId);
        }
    });

    /// <summary>Reads an alert back; throws <see cref="FormatException"/> naming the bad field.</summary>
    public static Alert Deserialize(ReadOnlySpan<byte> utf8) => WireJson.Read(utf8, "an alert", f => new Alert(
        AlertId: f.Required("alert_id", e => e.GetString()!),
        Rule: f.Required("rule", e => e.GetString()!),
        UserId: f.Required("user_id", e => e.GetString()!),
        Count: f.Required("count", e => e.GetInt32()),
        WindowMs: f.Required("window_ms", e => e.GetInt64()),
        LastAmount: f.Required("last_amount", e => e.GetDecimal()),
        TxTs: f.Required("tx_ts", e => e.GetDateTimeOffset()),
        Partition: f.Required("partition", e => e.GetInt32()),
        Offset: f.Required("offset", e => e.GetInt64()),
        DetectedAt: f.Required("detected_at", e => e.GetDateTimeOffset()),
        TxId: f.Optional("tx_id", e => e.GetString()))
    {
        RuleVersion = f.Optional("rule_version", e => e.GetInt64()),
    });
}
