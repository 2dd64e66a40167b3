using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FraudActors.Messages.Transactions;

/// <summary>
/// Which event times a record may carry: none before <paramref name="Earliest"/> (a zero or
/// defaulted clock, a unit mistake), none further than <paramref name="MaxAhead"/> ahead of the
/// record's reference time (null: no limit; see <see cref="TransactionParser.ReferenceTimeMs"/>).
/// One such record would otherwise move its partition's watermark years ahead and make every
/// record after it late.
/// </summary>
public sealed record TimestampBounds(DateTimeOffset Earliest, TimeSpan? MaxAhead)
{
    public static TimestampBounds Default { get; } = new(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromDays(1));

    /// <summary>Every time is accepted.</summary>
    public static TimestampBounds None { get; } = new(DateTimeOffset.MinValue, null);
}

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
public sealed class TransactionParser(
    int maxValueBytes = TransactionParser.DefaultMaxValueBytes,
    TimestampBounds? bounds = null,
    decimal maxAbsAmount = TransactionParser.DefaultMaxAbsAmount,
    TimeProvider? clock = null)
{
    public const int DefaultMaxValueBytes = 64 * 1024;

    /// <summary>Longer ids are refused: a user id names an actor, a shard entry and a journal key.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Longer merchants are refused: each one a user meets is a key of its profile's state.</summary>
    public const int MaxMerchantLength = 256;

    public const decimal DefaultMaxAbsAmount = 1_000_000_000m;

    /// <summary>
    /// The highest <see cref="MaxAbsAmount"/> allowed: 2^33. Every sum of amounts the service keeps
    /// counts its records in a long, and 2^33 × (2^63 − 1) &lt; 2^96 − 1 = decimal.MaxValue, so no
    /// sum of accepted amounts can overflow.
    /// </summary>
    public const decimal MaxAbsAmountLimit = 8_589_934_592m;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public int MaxValueBytes { get; } = maxValueBytes > 0
        ? maxValueBytes
        : throw new ArgumentOutOfRangeException(nameof(maxValueBytes), "must be positive");

    public TimestampBounds Bounds { get; } = bounds ?? TimestampBounds.Default;

    /// <summary>Amounts beyond ± this are refused as <see cref="RejectReason.InvalidAmount"/>.</summary>
    public decimal MaxAbsAmount { get; } = maxAbsAmount is > 0 and <= MaxAbsAmountLimit
        ? maxAbsAmount
        : throw new ArgumentOutOfRangeException(nameof(maxAbsAmount), maxAbsAmount, $"must be above 0 and at most {MaxAbsAmountLimit}");

    /// <summary>Without a record timestamp (processing time, or a record read back for reference): only the earliest bound applies to <c>ts</c>.</summary>
    /// <param name="key">The Kafka key; producers key by <c>user_id</c> (docs/design.md, section 4, step 1).</param>
    /// <param name="value">The record's value, UTF-8 JSON.</param>
    public ParseOutcome Parse(ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value) => Parse(key, hasKey, value, recordTimestampMs: null);

    /// <param name="recordTimestampMs">
    /// The record's Kafka timestamp (Unix ms), given where event time drives the clock; null: no
    /// check of how far <c>ts</c> is ahead. A <c>ts</c> further than <see cref="TimestampBounds.MaxAhead"/>
    /// ahead of <see cref="ReferenceTimeMs"/> is refused.
    /// </param>
    public ParseOutcome Parse(ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, long? recordTimestampMs)
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

        var amount = outcome.Transaction!.Amount;
        if (Math.Abs(amount) > MaxAbsAmount)
        {
            return ParseOutcome.Reject(RejectReason.InvalidAmount, $"amount {amount.ToString(CultureInfo.InvariantCulture)} is beyond ±{MaxAbsAmount.ToString(CultureInfo.InvariantCulture)}, the largest amount accepted");
        }

        var ts = outcome.Transaction!.Timestamp;
        if (ts < Bounds.Earliest)
        {
            return ParseOutcome.Reject(RejectReason.InvalidTimestamp, $"ts {ts:O} is before {Bounds.Earliest:O}, the earliest event time accepted");
        }

        if (Bounds.MaxAhead is { } ahead && recordTimestampMs is { } recordMs)
        {
            var nowMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var referenceMs = ReferenceTimeMs(recordMs, nowMs);
            if (ts.ToUnixTimeMilliseconds() - referenceMs > (long)ahead.TotalMilliseconds)
            {
                var reference = referenceMs == recordMs
                    ? $"the record's Kafka timestamp {DateTimeOffset.FromUnixTimeMilliseconds(recordMs):O}"
                    : $"the time it was read, {DateTimeOffset.FromUnixTimeMilliseconds(nowMs):O} (its Kafka timestamp, {recordMs} ms, is not a plausible time)";
                return ParseOutcome.Reject(RejectReason.InvalidTimestamp, $"ts {ts:O} is more than {ahead} ahead of {reference}");
            }
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
                $"key '{Truncate(Encoding.UTF8.GetString(key[..Math.Min(key.Length, 256)]))}' ({key.Length} bytes) differs from user_id '{Truncate(userId)}'");
        }

        return outcome;
    }

    /// <summary>
    /// The time a record's <c>ts</c> may be at most <see cref="TimestampBounds.MaxAhead"/> ahead of:
    /// its Kafka timestamp when that is plausible (not before <see cref="TimestampBounds.Earliest"/>,
    /// not beyond <paramref name="nowMs"/> plus MaxAhead), else <paramref name="nowMs"/>, the wall
    /// clock at reading. A producer sets CreateTime freely (0 or less, or forged), so the record's
    /// own time alone could let any <c>ts</c> through; the wall clock alone would judge a replay
    /// differently. An honest timestamp lies in the range when first read and stays in it (the
    /// clock only moves on), so honest records are judged the same on every replay; no record
    /// gets a <c>ts</c> more than twice MaxAhead ahead of the wall clock through.
    /// </summary>
    public long ReferenceTimeMs(long recordTimestampMs, long nowMs)
    {
        var ahead = (long)(Bounds.MaxAhead ?? TimeSpan.Zero).TotalMilliseconds;
        return recordTimestampMs >= Bounds.Earliest.ToUnixTimeMilliseconds() && recordTimestampMs <= nowMs + ahead ? recordTimestampMs : nowMs;
    }

    private static ParseOutcome ParseValue(ReadOnlySpan<byte> value)
    {
        string? userId = null;
        decimal? amount = null;
        string? merchant = null;
        DateTimeOffset? ts = null;
        string? txId = null;
        var seen = 0;
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
                var (name, bit) = Field(ref reader);
                if (bit != 0 && (seen & bit) != 0)
                {
                    return ParseOutcome.Reject(RejectReason.InvalidJson, $"{name} appears twice");
                }

                seen |= bit;
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

        if (InvalidId(userId) is { } userIdProblem)
        {
            return ParseOutcome.Reject(RejectReason.InvalidUserId, $"user_id {userIdProblem}");
        }

        if (txId is not null && InvalidId(txId) is { } txIdProblem)
        {
            return ParseOutcome.Reject(RejectReason.InvalidField, $"tx_id {txIdProblem}");
        }

        if (merchant is { Length: > MaxMerchantLength })
        {
            return ParseOutcome.Reject(RejectReason.InvalidField, $"merchant is {merchant.Length} characters long, the limit is {MaxMerchantLength}");
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

    /// <summary>The known field the reader stands on (the interned name and its bit), or (null, 0) for any other.</summary>
    private static (string? Name, int Bit) Field(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals(UserIdName) ? ("user_id", 1)
        : reader.ValueTextEquals(AmountName) ? ("amount", 2)
        : reader.ValueTextEquals(MerchantName) ? ("merchant", 4)
        : reader.ValueTextEquals(TsName) ? ("ts", 8)
        : reader.ValueTextEquals(TxIdName) ? ("tx_id", 16)
        : (null, 0);

    /// <summary>Why an id cannot name a user or a transaction (too long, control characters, lone surrogates), or null.</summary>
    private static string? InvalidId(string id)
    {
        if (id.Length > MaxIdLength)
        {
            return $"is {id.Length} characters long, the limit is {MaxIdLength}";
        }

        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (char.IsControl(c))
            {
                return $"holds the control character U+{(int)c:X4} at {i}";
            }

            if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < id.Length && char.IsLowSurrogate(id[++i])))
            {
                return $"holds an unpaired surrogate at {i}";
            }
        }

        return null;
    }

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

        return TryParseZonedTime(reader.GetString(), out var ts) ? ts : null;
    }

    /// <summary>
    /// An ISO 8601 time with its zone (<c>…Z</c> or <c>…+01:00</c>). A time without one is
    /// ambiguous: event time, and a configured time, must mean the same on every node.
    /// </summary>
    public static bool TryParseZonedTime(string? text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out time) && HasZone(text!);

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
