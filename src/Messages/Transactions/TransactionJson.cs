using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace FraudActors.Messages.Transactions;

/// <summary>
/// The wire form of <see cref="Transaction"/>:
/// <c>{"user_id": "u42", "amount": 99.95, "merchant": "gas_station", "ts": "2026-03-17T09:00:01.234Z"}</c>.
/// Writing is here; reading with validation is <see cref="TransactionParser"/>.
/// </summary>
public static class TransactionJson
{
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static byte[] Serialize(Transaction tx)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("user_id", tx.UserId);
            writer.WriteNumber("amount", tx.Amount);
            if (tx.Merchant is not null)
            {
                writer.WriteString("merchant", tx.Merchant);
            }

            writer.WriteString("ts", FormatTimestamp(tx.Timestamp));
            if (tx.TxId is not null)
            {
                writer.WriteString("tx_id", tx.TxId);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string FormatTimestamp(DateTimeOffset ts) =>
        ts.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);
}
