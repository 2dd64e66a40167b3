using System.Buffers;
using System.Text.Json;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Alerts;

/// <summary>The wire form of <see cref="Alert"/> on the alerts topic, with snake_case fields.</summary>
public static class AlertJson
{
    public static byte[] Serialize(Alert alert)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("alert_id", alert.AlertId);
            w.WriteString("rule", alert.Rule);
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

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads an alert back; throws <see cref="FormatException"/> naming the bad field.</summary>
    public static Alert Deserialize(ReadOnlySpan<byte> utf8)
    {
        try
        {
            using var doc = JsonDocument.Parse(utf8.ToArray());
            var root = doc.RootElement;
            return new Alert(
                AlertId: Required(root, "alert_id").GetString()!,
                Rule: Required(root, "rule").GetString()!,
                UserId: Required(root, "user_id").GetString()!,
                Count: Required(root, "count").GetInt32(),
                WindowMs: Required(root, "window_ms").GetInt64(),
                LastAmount: Required(root, "last_amount").GetDecimal(),
                TxTs: Required(root, "tx_ts").GetDateTimeOffset(),
                Partition: Required(root, "partition").GetInt32(),
                Offset: Required(root, "offset").GetInt64(),
                DetectedAt: Required(root, "detected_at").GetDateTimeOffset(),
                TxId: root.TryGetProperty("tx_id", out var txId) ? txId.GetString() : null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"not an alert: {e.Message}", e);
        }
    }

    private static JsonElement Required(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : throw new KeyNotFoundException($"field '{name}' is missing");
}
