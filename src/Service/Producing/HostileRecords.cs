using System.Globalization;
using System.Text;
using FraudActors.Messages.Transactions;

namespace FraudActors.Service.Producing;

/// <summary>
/// A record as it goes to Kafka: raw key and value (either may be null, or not UTF-8), headers and
/// a CreateTime (null: the producer's clock). A hostile record says in its headers what it is
/// (<see cref="HostileRecords.KindHeader"/>) and which reason the dead-letter topic must give it
/// (<see cref="HostileRecords.ExpectedReasonHeader"/>); the service ignores the headers of what it reads.
/// </summary>
public sealed record OutgoingRecord(byte[]? Key, byte[]? Value, IReadOnlyList<(string Name, byte[] Value)>? Headers = null, long? TimestampMs = null)
{
    public static OutgoingRecord Of((string? Key, byte[] Value) record) =>
        new(record.Key is null ? null : Encoding.UTF8.GetBytes(record.Key), record.Value);

    public string? Header(string name) =>
        Headers?.FirstOrDefault(h => h.Name == name) is { Value: { } v } ? Encoding.UTF8.GetString(v) : null;
}

/// <summary>
/// Malformed and abusive records mixed into a valid stream (issue 8's hostile input): truncated
/// and invalid JSON, wrong types, missing and empty fields, NaN/Infinity/1e400 amounts, amounts
/// near the decimal limits, times far in the past or future, Kafka timestamps that are negative,
/// forged or out of range, invalid UTF-8, control characters, 1 MB values, 128 KiB keys, null keys
/// and values, keys that disagree with <c>user_id</c>, over-long fields, repeated fields, deep
/// nesting and duplicated records. Each comes with the dead-letter reason the service must give
/// it, or <see cref="Accepted"/> for the few odd but valid ones. Deterministic for a seed.
/// </summary>
public sealed class HostileRecords(int seed, double share)
{
    public const string KindHeader = "hostile-kind";
    public const string ExpectedReasonHeader = "hostile-expected-reason";

    /// <summary>The expected reason of a kind the service must accept: odd, but valid.</summary>
    public const string Accepted = "accepted";

    /// <summary>The size of the "1 MB value" record.</summary>
    public const int LargeValueBytes = 1024 * 1024;

    /// <summary>
    /// The size of the over-long key: above the record limit and the dead-letter topic's key cut,
    /// and small enough that the dev broker, which keeps ~5 MiB a partition, keeps the whole mix.
    /// </summary>
    public const int LargeKeyBytes = 128 * 1024;

    /// <summary>The amount of the overflow triple: finite, within a decimal, but three of them overflow a sum.</summary>
    public const string OverflowAmount = "5e28";

    private const int RecentKept = 16;

    /// <summary>
    /// Every kind, with the reason it must get (null: accepted, see <see cref="Accepted"/>): a kind
    /// is picked uniformly for each hostile record. Reasons assume the default <c>fraud.ingest.*</c> settings.
    /// </summary>
    public static readonly IReadOnlyList<(string Kind, RejectReason? Reason)> Kinds =
    [
        ("truncated-json", RejectReason.InvalidJson),
        ("not-json", RejectReason.InvalidJson),
        ("json-array", RejectReason.InvalidJson),
        ("empty-value", RejectReason.InvalidJson),
        ("null-value", RejectReason.InvalidJson),
        ("trailing-garbage", RejectReason.InvalidJson),
        ("nan-literal", RejectReason.InvalidJson),
        ("infinity-literal", RejectReason.InvalidJson),
        ("nan-string", RejectReason.InvalidAmount),
        ("amount-1e400", RejectReason.InvalidAmount),
        ("amount-string", RejectReason.InvalidAmount),
        ("amount-missing", RejectReason.InvalidAmount),
        ("user-id-number", RejectReason.MissingUserId),
        ("user-id-missing", RejectReason.MissingUserId),
        ("user-id-empty", RejectReason.MissingUserId),
        ("user-id-control-char", RejectReason.InvalidUserId),
        ("user-id-too-long", RejectReason.InvalidUserId),
        ("raw-control-char", RejectReason.InvalidJson),
        ("invalid-utf8", RejectReason.InvalidJson),
        ("ts-bool", RejectReason.InvalidTimestamp),
        ("ts-empty", RejectReason.InvalidTimestamp),
        ("ts-missing", RejectReason.InvalidTimestamp),
        ("ts-without-zone", RejectReason.InvalidTimestamp),
        ("ts-far-past", RejectReason.InvalidTimestamp),
        ("ts-epoch-zero", RejectReason.InvalidTimestamp),
        ("ts-far-future", RejectReason.InvalidTimestamp),
        ("merchant-number", RejectReason.InvalidField),
        ("one-megabyte", RejectReason.Oversized),
        ("null-key", RejectReason.MissingKey),
        ("key-of-another-user", RejectReason.KeyMismatch),
        ("repeated-field", RejectReason.InvalidJson),
        ("deep-nesting", RejectReason.InvalidJson),
        ("duplicate", RejectReason.DuplicateTransaction),
        ("amount-5e28-thrice", RejectReason.InvalidAmount),
        ("amount-over-limit", RejectReason.InvalidAmount),
        ("amount-decimal-max", RejectReason.InvalidAmount),
        ("amount-at-limit", null),
        ("kafka-ts-negative-ts-far-future", RejectReason.InvalidTimestamp),
        ("kafka-ts-negative", null),
        ("create-time-out-of-range", RejectReason.InvalidTimestamp),
        ("create-time-far-future-ts-far-future", RejectReason.InvalidTimestamp),
        ("create-time-far-past-ts-far-past", RejectReason.InvalidTimestamp),
        ("create-time-far-past", RejectReason.InvalidTimestamp),
        ("create-time-before-earliest", null),
        ("key-over-limit", RejectReason.KeyMismatch),
        ("merchant-too-long", RejectReason.InvalidField),
        ("tx-id-too-long", RejectReason.InvalidField),
    ];

    /// <summary>The wire name a kind's records carry in <see cref="ExpectedReasonHeader"/>.</summary>
    public static string ExpectedReason(RejectReason? reason) => reason?.WireName() ?? Accepted;

    private readonly Random _random = new(seed);
    private readonly double _share = share is > 0 and < 1
        ? share
        : throw new ArgumentOutOfRangeException(nameof(share), share, "the share of hostile records must be above 0 and below 1");

    /// <summary>
    /// The valid stream with hostile records between its records, about <c>share</c> of the whole
    /// (after each valid record, another hostile one follows with probability <c>share</c>).
    /// Duplicates repeat one of the last few valid records with a <c>tx_id</c>.
    /// </summary>
    public IEnumerable<OutgoingRecord> Mix(IEnumerable<Transaction> valid)
    {
        var recent = new Queue<Transaction>(RecentKept);
        foreach (var tx in valid)
        {
            yield return OutgoingRecord.Of(TransactionGenerator.ToRecord(tx));
            if (tx.TxId is not null)
            {
                if (recent.Count == RecentKept)
                {
                    recent.Dequeue();
                }

                recent.Enqueue(tx);
            }

            while (_random.NextDouble() < _share)
            {
                var (kind, reason) = Kinds[_random.Next(Kinds.Count)];
                if (kind == "duplicate" && recent.Count == 0)
                {
                    (kind, reason) = Kinds[0];
                }

                foreach (var record in Make(kind, tx, recent))
                {
                    yield return record with { Headers = [(KindHeader, Encoding.UTF8.GetBytes(kind)), (ExpectedReasonHeader, Encoding.UTF8.GetBytes(ExpectedReason(reason)))] };
                }
            }
        }
    }

    /// <summary>
    /// The records of one hostile <paramref name="kind"/> (one, or three for the overflow triple),
    /// made from a valid transaction, without headers.
    /// </summary>
    public IReadOnlyList<OutgoingRecord> Make(string kind, Transaction tx, IReadOnlyCollection<Transaction> recent)
    {
        var user = Quote(tx.UserId);
        var key = Encoding.UTF8.GetBytes(tx.UserId);
        var farFuture = DateTimeOffset.UtcNow.AddYears(10);
        string Body(string? amountJson = null, string? tsJson = null, string? merchantJson = null, string? extra = null) =>
            "{" + string.Join(",", new[]
            {
                $"\"user_id\":{user}",
                $"\"amount\":{amountJson ?? tx.Amount.ToString(CultureInfo.InvariantCulture)}",
                $"\"merchant\":{merchantJson ?? "\"online\""}",
                $"\"ts\":{tsJson ?? Quote(TransactionJson.FormatTimestamp(tx.Timestamp))}",
                extra,
            }.Where(p => p is not null)) + "}";
        OutgoingRecord Record(string body, long? timestampMs = null, byte[]? recordKey = null) => new(recordKey ?? key, Encoding.UTF8.GetBytes(body), TimestampMs: timestampMs);
        string Time(DateTimeOffset time) => Quote(TransactionJson.FormatTimestamp(time));
        string Sign() => _random.Next(2) == 0 ? string.Empty : "-";

        // librdkafka sends a CreateTime of 0 as "now", so the Kafka timestamps at or below 0 made here are negative.
        switch (kind)
        {
            case "amount-5e28-thrice":
                return [Record(Body(amountJson: OverflowAmount)), Record(Body(amountJson: OverflowAmount)), Record(Body(amountJson: OverflowAmount))];
            case "amount-over-limit":
                return [Record(Body(amountJson: Sign() + "1000000000.01"))];
            case "amount-decimal-max":
                return [Record(Body(amountJson: Sign() + decimal.MaxValue.ToString(CultureInfo.InvariantCulture)))];
            case "amount-at-limit":
                return [Record(Body(amountJson: Sign() + "1000000000"))];
            case "kafka-ts-negative-ts-far-future":
                return [Record(Body(tsJson: Time(farFuture)), NegativeTimestamp())];
            case "kafka-ts-negative":
                return [Record(Body(), NegativeTimestamp())];
            case "create-time-out-of-range":
                long[] outOfRange = [long.MaxValue, long.MinValue, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() + 1];
                return [Record(Body(tsJson: "\"9999-12-31T23:59:59Z\""), outOfRange[_random.Next(outOfRange.Length)])];
            case "create-time-far-future-ts-far-future":
                return [Record(Body(tsJson: Time(farFuture)), farFuture.ToUnixTimeMilliseconds())];
            case "create-time-far-past-ts-far-past":
                var ancient = new DateTimeOffset(1990, 1, 1, 0, 0, 0, TimeSpan.Zero);
                return [Record(Body(tsJson: Time(ancient.AddSeconds(1))), ancient.ToUnixTimeMilliseconds())];
            case "create-time-far-past":
                return [Record(Body(), new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds())];
            case "create-time-before-earliest":
                return [Record(Body(), _random.Next(2) == 0 ? 1 : new DateTimeOffset(1999, 12, 31, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds())];
            case "key-over-limit":
                return [Record(Body(), recordKey: Encoding.UTF8.GetBytes(tx.UserId + new string('k', LargeKeyBytes)))];
            case "merchant-too-long":
                return [Record(Body(merchantJson: Quote(new string('m', TransactionParser.MaxMerchantLength + 1 + _random.Next(100)))))];
            case "tx-id-too-long":
                return [Record(Body(extra: "\"tx_id\":" + Quote(new string('t', TransactionParser.MaxIdLength + 1 + _random.Next(100)))))];
            default:
                var (plainKey, plainValue) = MakeValue(kind, tx, recent);
                return [new OutgoingRecord(plainKey, plainValue)];
        }
    }

    private long NegativeTimestamp() => _random.Next(3) switch
    {
        0 => -1,
        1 => -5000,
        _ => -new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(),
    };

    private (byte[]? Key, byte[]? Value) MakeValue(string kind, Transaction tx, IReadOnlyCollection<Transaction> recent)
    {
        var key = Encoding.UTF8.GetBytes(tx.UserId);
        var user = Quote(tx.UserId);
        var amount = tx.Amount.ToString(CultureInfo.InvariantCulture);
        var ts = Quote(TransactionJson.FormatTimestamp(tx.Timestamp));
        byte[] Json(string text) => Encoding.UTF8.GetBytes(text);
        string Body(string? userJson = null, string? amountJson = null, string? tsJson = null, string? extra = null) =>
            "{" + string.Join(",", new[]
            {
                userJson is "" ? null : $"\"user_id\":{userJson ?? user}",
                amountJson is "" ? null : $"\"amount\":{amountJson ?? amount}",
                "\"merchant\":\"online\"",
                tsJson is "" ? null : $"\"ts\":{tsJson ?? ts}",
                extra,
            }.Where(p => p is not null)) + "}";

        switch (kind)
        {
            case "truncated-json":
                var whole = TransactionJson.Serialize(tx);
                return (key, whole[..(1 + _random.Next(whole.Length - 1))]);
            case "not-json":
                return (key, Json("this is not json " + _random.Next()));
            case "json-array":
                return (key, Json("[" + user + "," + amount + "]"));
            case "empty-value":
                return (key, []);
            case "null-value":
                return (key, null);
            case "trailing-garbage":
                return (key, Json(Body() + "}{"));
            case "nan-literal":
                return (key, Json(Body(amountJson: "NaN")));
            case "infinity-literal":
                return (key, Json(Body(amountJson: _random.Next(2) == 0 ? "Infinity" : "-Infinity")));
            case "nan-string":
                return (key, Json(Body(amountJson: "\"NaN\"")));
            case "amount-1e400":
                return (key, Json(Body(amountJson: "1e400")));
            case "amount-string":
                return (key, Json(Body(amountJson: Quote(amount))));
            case "amount-missing":
                return (key, Json(Body(amountJson: "")));
            case "user-id-number":
                return (Json("42"), Json(Body(userJson: "42")));
            case "user-id-missing":
                return (key, Json(Body(userJson: "")));
            case "user-id-empty":
                return ([], Json(Body(userJson: "\"\"")));
            case "user-id-control-char":
                return (Json(tx.UserId + "\u0007"), Json(Body(userJson: "\"" + tx.UserId + "\\u0007\"")));
            case "user-id-too-long":
                var longId = tx.UserId + new string('x', TransactionParser.MaxIdLength);
                return (Json(longId), Json(Body(userJson: Quote(longId))));
            case "raw-control-char":
                return (key, Json(Body(extra: "\"note\":\"bell\u0007here\"")));
            case "invalid-utf8":
                // "user_id":"<id>\xC3\x28": a broken two-byte sequence inside the string.
                var head = Json("{\"user_id\":\"" + tx.UserId);
                var tail = Json("\",\"amount\":" + amount + ",\"ts\":" + ts + "}");
                return ([.. key, 0xC3, 0x28], [.. head, 0xC3, 0x28, .. tail]);
            case "ts-bool":
                return (key, Json(Body(tsJson: "true")));
            case "ts-empty":
                return (key, Json(Body(tsJson: "\"\"")));
            case "ts-missing":
                return (key, Json(Body(tsJson: "")));
            case "ts-without-zone":
                return (key, Json(Body(tsJson: Quote(tx.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)))));
            case "ts-far-past":
                return (key, Json(Body(tsJson: _random.Next(2) == 0 ? "\"0001-01-01T00:00:00Z\"" : "\"1970-01-01T00:00:00Z\"")));
            case "ts-epoch-zero":
                return (key, Json(Body(tsJson: "0")));
            case "ts-far-future":
                return (key, Json(Body(tsJson: _random.Next(2) == 0 ? "\"9999-12-31T23:59:59Z\"" : Quote(TransactionJson.FormatTimestamp(DateTimeOffset.UtcNow.AddYears(10))))));
            case "merchant-number":
                return (key, Json(Body(extra: "\"merchant\":7").Replace("\"merchant\":\"online\",", string.Empty, StringComparison.Ordinal)));
            case "one-megabyte":
                var filler = new string('m', LargeValueBytes);
                return (key, Json(Body(extra: "\"note\":\"" + filler + "\"")));
            case "null-key":
                return (null, TransactionJson.Serialize(tx with { TxId = null }));
            case "key-of-another-user":
                return (Json(tx.UserId + "-other"), TransactionJson.Serialize(tx with { TxId = null }));
            case "repeated-field":
                return (key, Json(Body(extra: "\"user_id\":" + Quote(tx.UserId + "-other"))));
            case "deep-nesting":
                return (key, Json(Body(extra: "\"deep\":" + new string('[', 64) + new string(']', 64))));
            case "duplicate":
                var original = recent.ElementAt(_random.Next(recent.Count));
                var (dupKey, dupValue) = TransactionGenerator.ToRecord(original);
                return (Json(dupKey!), dupValue);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a hostile kind");
        }
    }

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
