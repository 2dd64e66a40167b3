using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FraudActors.Messages.Transactions;

/// <summary>The outcome of reading one Kafka record: a transaction, or the reason it was rejected.</summary>
public readonly record struct ParseOutcome(Transaction? Transaction, RejectReason Reason, string Detail)
{
    public bool IsValid => Transaction is not null;

    public static ParseOutcome Valid(Transaction tx) => new(tx, default, string.Empty);

    public static ParseOutcome Reject(RejectReason reason, string detail) => new(null, reason, detail);
}

/// <summary>
/// Reads and validates a record of the transactions topic. Every failure is a
/// <see cref="ParseOutcome"/> with a reason, never an exception: a bad record must reach the
/// dead-letter topic and the stream must go on.
/// </summary>
public sealed class TransactionParser(int maxValueBytes = TransactionParser.DefaultMaxValueBytes)
{
    public const int DefaultMaxValueBytes = 64 * 1024;

    public int MaxValueBytes { get; } = maxValueBytes > 0
        ? maxValueBytes
        : throw new ArgumentOutOfRangeException(nameof(maxValueBytes), "must be positive");

    /// <param name="key">The Kafka key; producers key by <c>user_id</c> (DESIGN.md section 4, step 1).</param>
    /// <param name="value">The record's value, UTF-8 JSON.</param>
    public ParseOutcome Parse(ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxValueBytes)
        {
            return ParseOutcome.Reject(RejectReason.Oversized, $"value is {value.Length} bytes, the limit is {MaxValueBytes}");
        }

        var outcome = ParseValue(value);
        if (!outcome.IsValid)
        {
            return outcome;
        }

        // A key that differs from user_id would put the user in two partitions and break the
        // per-partition cut that checkpoints rely on, so such records are rejected, not re-keyed.
        if (!hasKey || key.IsEmpty)
        {
            return ParseOutcome.Reject(RejectReason.MissingKey, "the record has no key; producers key by user_id");
        }

        var userId = outcome.Transaction!.UserId;
        if (!Utf8Equals(key, userId))
        {
            return ParseOutcome.Reject(
                RejectReason.KeyMismatch,
                $"key '{Truncate(Encoding.UTF8.GetString(key))}' differs from user_id '{Truncate(userId)}'");
        }

        return outcome;
    }

    private static ParseOutcome ParseValue(ReadOnlySpan<byte> value)
    {
        string? userId = null;
        decimal? amount = null;
        string? merchant = null;
        DateTimeOffset? ts = null;
        string? txId = null;
        var reader = new Utf8JsonReader(value, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return ParseOutcome.Reject(RejectReason.InvalidJson, "the value is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Names are compared as UTF-8 bytes: no string per property of every record.
                var name = Field(ref reader);
                reader.Read();
                switch (name)
                {
                    case "user_id":
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return ParseOutcome.Reject(RejectReason.MissingUserId, "user_id is not a string");
                        }

                        userId = reader.GetString();
                        break;
                    case "amount":
                        if (reader.TokenType != JsonTokenType.Number)
                        {
                            return ParseOutcome.Reject(RejectReason.InvalidAmount, $"amount is {Describe(reader.TokenType)}, not a number");
                        }

                        if (!reader.TryGetDecimal(out var parsed))
                        {
                            return ParseOutcome.Reject(RejectReason.InvalidAmount, "amount is not a finite decimal number");
                        }

                        amount = parsed;
                        break;
                    case "merchant":
                        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                        {
                            return ParseOutcome.Reject(RejectReason.InvalidField, "merchant is not a string");
                        }

                        merchant = reader.GetString();
                        break;
                    case "ts":
                        var timestamp = ReadTimestamp(ref reader);
                        if (timestamp is null)
                        {
                            return ParseOutcome.Reject(RejectReason.InvalidTimestamp, "ts is not an ISO-8601 time or Unix milliseconds");
                        }

                        ts = timestamp;
                        break;
                    case "tx_id":
                        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                        {
                            return ParseOutcome.Reject(RejectReason.InvalidField, "tx_id is not a string");
                        }

                        txId = reader.GetString();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return ParseOutcome.Reject(RejectReason.InvalidJson, "trailing data after the JSON object");
            }
        }
        catch (JsonException e)
        {
            return ParseOutcome.Reject(RejectReason.InvalidJson, e.Message);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader reports invalid UTF-8 in strings this way.
            return ParseOutcome.Reject(RejectReason.InvalidJson, e.Message);
        }

        if (string.IsNullOrWhiteSpace(userId))
        {
            return ParseOutcome.Reject(RejectReason.MissingUserId, "user_id is missing or empty");
        }

        if (amount is null)
        {
            return ParseOutcome.Reject(RejectReason.InvalidAmount, "amount is missing");
        }

        if (ts is null)
        {
            return ParseOutcome.Reject(RejectReason.InvalidTimestamp, "ts is missing");
        }

        return ParseOutcome.Valid(new Transaction(userId, amount.Value, merchant, ts.Value, txId));
    }

    private static readonly byte[] UserIdName = "user_id"u8.ToArray();
    private static readonly byte[] AmountName = "amount"u8.ToArray();
    private static readonly byte[] MerchantName = "merchant"u8.ToArray();
    private static readonly byte[] TsName = "ts"u8.ToArray();
    private static readonly byte[] TxIdName = "tx_id"u8.ToArray();

    /// <summary>The known field the reader stands on (the interned name), or null for any other.</summary>
    private static string? Field(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals(UserIdName) ? "user_id"
        : reader.ValueTextEquals(AmountName) ? "amount"
        : reader.ValueTextEquals(MerchantName) ? "merchant"
        : reader.ValueTextEquals(TsName) ? "ts"
        : reader.ValueTextEquals(TxIdName) ? "tx_id"
        : null;

    private static DateTimeOffset? ReadTimestamp(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            // Unix milliseconds, as many Kafka producers write event time.
            return reader.TryGetInt64(out var ms) && ms is >= -62135596800000 and <= 253402300799999
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return null;
        }

        // The common case first, read from the bytes: ISO 8601 in UTC ("…Z"), as producers write it.
        if (!reader.HasValueSequence && !reader.ValueIsEscaped && reader.ValueSpan is [.., (byte)'Z'] && reader.TryGetDateTimeOffset(out var utc))
        {
            return utc;
        }

        // A time without an offset is ambiguous; event time must mean the same on every node.
        var text = reader.GetString();
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var ts)
               && HasZone(text!)
            ? ts
            : null;
    }

    private static bool HasZone(string text)
    {
        var t = text.IndexOf('T', StringComparison.Ordinal);
        if (t < 0)
        {
            return false;
        }

        var time = text.AsSpan(t);
        return time.EndsWith("Z", StringComparison.OrdinalIgnoreCase) || time.IndexOfAny('+', '-') > 0;
    }

    private static bool Utf8Equals(ReadOnlySpan<byte> utf8, string text)
    {
        Span<byte> buffer = text.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(text.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
        var written = Encoding.UTF8.GetBytes(text, buffer);
        return utf8.SequenceEqual(buffer[..written]);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Null => "null",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
