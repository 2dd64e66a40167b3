using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Tests.Transactions;

/// <summary>
/// Property-based tests of the parser (issue 8): for any key, value and Kafka timestamp it never
/// throws, and its answer is either a transaction that passes every check the service relies on
/// or a dead-letter reason with a detail. Inputs: random bytes, JSON-shaped objects with the
/// real field names and hostile values, and byte-level mutations of both.
/// </summary>
public sealed class TransactionParserProperties
{
    private const int Iterations = 20_000;
    private static readonly long Now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly long AheadMs = (long)TimestampBounds.Default.MaxAhead!.Value.TotalMilliseconds;
    private readonly TransactionParser _parser = new(maxValueBytes: 4096, clock: new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds(Now)));

    [Fact]
    public void Random_bytes_never_throw_and_always_get_an_answer() =>
        Gen.Select(Key, Gen.Byte.Array[0, 300], RecordTimestamp)
            .Sample((key, value, recordTs) => Check(key, value, recordTs), iter: Iterations);

    [Fact]
    public void Json_shaped_records_with_hostile_values_never_throw_and_always_get_an_answer() =>
        Gen.Select(Record, RecordTimestamp)
            .Sample((record, recordTs) => Check(record.Key, record.Value, recordTs), iter: Iterations);

    [Fact]
    public void Mutated_records_never_throw_and_always_get_an_answer() =>
        Gen.Select(Record, Gen.Int[0, int.MaxValue].Array[1, 4], Gen.Byte, RecordTimestamp)
            .Sample((record, positions, b, recordTs) => Check(record.Key, Mutate(record.Value, positions, b), recordTs), iter: Iterations);

    [Fact]
    public void The_generators_reach_valid_records_and_every_kind_of_reject()
    {
        // A property over inputs that are all rejected early would prove little: the JSON-shaped
        // generator must produce valid transactions and each reason the parser can give.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Gen.Select(Record, RecordTimestamp).Sample(
            (record, recordTs) =>
            {
                var outcome = _parser.Parse(record.Key, record.Key is not null, record.Value, recordTs);
                seen.Add(outcome.IsValid ? "valid" : outcome.Reason.WireName());
            },
            iter: Iterations,
            threads: 1);
        Assert.Subset(seen, new HashSet<string>(StringComparer.Ordinal)
        {
            "valid", "oversized", "invalid-json", "missing-user-id", "invalid-amount", "invalid-ts",
            "invalid-field", "missing-key", "key-mismatch", "invalid-user-id",
        });
    }

    [Fact]
    public void No_Kafka_timestamp_lets_a_ts_more_than_twice_max_ts_ahead_past_the_time_of_reading() =>
        Gen.Select(RecordTimestamp, Gen.Long[Now - AheadMs, Now + (3 * AheadMs)])
            .Sample(
                (recordTs, tsMs) =>
                {
                    var value = Encoding.UTF8.GetBytes($$"""{"user_id":"u1","amount":1,"ts":{{tsMs}}}""");
                    var outcome = _parser.Parse("u1"u8, hasKey: true, value, recordTs);
                    return outcome.IsValid == (tsMs - _parser.ReferenceTimeMs(recordTs, Now) <= AheadMs) && (!outcome.IsValid || tsMs <= Now + (2 * AheadMs));
                },
                iter: Iterations);

    [Fact]
    public void The_reference_time_of_an_honest_record_is_its_Kafka_timestamp_whenever_it_is_read_again() =>
        Gen.Select(Gen.Long[TimestampBounds.Default.Earliest.ToUnixTimeMilliseconds(), Now + AheadMs], Gen.Long[0, 100L * 365 * 86_400_000])
            .Sample(
                (recordTs, later) => _parser.ReferenceTimeMs(recordTs, Now) == recordTs && _parser.ReferenceTimeMs(recordTs, Now + later) == recordTs,
                iter: Iterations);

    private void Check(byte[]? key, byte[] value, long recordTs)
    {
        var outcome = _parser.Parse(key, key is not null, value, recordTs);
        if (!outcome.IsValid)
        {
            Assert.Null(outcome.Transaction);
            Assert.NotEqual(RejectReason.Late, outcome.Reason);
            Assert.NotEqual(RejectReason.DuplicateTransaction, outcome.Reason);
            Assert.False(string.IsNullOrWhiteSpace(outcome.Detail));
            Assert.False(string.IsNullOrEmpty(outcome.Reason.WireName()));
            return;
        }

        var tx = outcome.Transaction!;
        Assert.False(string.IsNullOrWhiteSpace(tx.UserId));
        Assert.True(tx.UserId.Length <= TransactionParser.MaxIdLength);
        Assert.DoesNotContain(tx.UserId, char.IsControl);
        Assert.Equal(key, Encoding.UTF8.GetBytes(tx.UserId));
        Assert.True(tx.Timestamp >= _parser.Bounds.Earliest);
        Assert.True(tx.Timestamp.ToUnixTimeMilliseconds() - _parser.ReferenceTimeMs(recordTs, Now) <= AheadMs);
        Assert.True(tx.Timestamp.ToUnixTimeMilliseconds() <= Now + (2 * AheadMs));
        Assert.True(Math.Abs(tx.Amount) <= _parser.MaxAbsAmount);
        Assert.True(tx.Merchant is null || tx.Merchant.Length <= TransactionParser.MaxMerchantLength);
        Assert.True(tx.TxId is null || tx.TxId.Length <= TransactionParser.MaxIdLength);

        // What the service writes back (alerts, the DLQ's neighbours) reads the same again.
        var again = _parser.Parse(key, hasKey: true, TransactionJson.Serialize(tx), recordTs);
        Assert.True(again.IsValid, again.Detail);
        Assert.Equal(tx with { Timestamp = TruncatedToMs(tx.Timestamp) }, again.Transaction);
    }

    private static DateTimeOffset TruncatedToMs(DateTimeOffset ts) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ts.ToUnixTimeMilliseconds());

    private static byte[] Mutate(byte[] value, int[] positions, byte b)
    {
        var bytes = value.ToList();
        foreach (var p in positions)
        {
            if (bytes.Count == 0)
            {
                bytes.Add(b);
                continue;
            }

            var at = p % bytes.Count;
            switch (p % 3)
            {
                case 0: bytes.RemoveAt(at); break;
                case 1: bytes.Insert(at, b); break;
                default: bytes[at] = b; break;
            }
        }

        return [.. bytes];
    }

    private static readonly Gen<long> RecordTimestamp = Gen.Frequency(
        (3, Gen.Long[Now - 86_400_000, Now + 86_400_000]),
        (1, Gen.Const(0L)),
        (1, Gen.Long[-86_400_000, 0]),
        (1, Gen.OneOf<long>(long.MinValue, long.MaxValue, 946684799999L, Now + 86_400_001)),
        (1, Gen.Long[Now, Now + (100L * 365 * 86_400_000)]),
        (1, Gen.Long));

    private static readonly Gen<byte[]?> Key = Gen.Frequency(
        (1, Gen.Const((byte[]?)null)),
        (3, Gen.Byte.Array[0, 12].Select(b => (byte[]?)b)));

    private static readonly Gen<char> AnyChar = Gen.Frequency(
        (6, Gen.Char['a', 'z']),
        (1, Gen.Char['\0', '\u001f']),
        (1, Gen.Char['\ud800', '\udfff']),
        (1, Gen.Char),
        (1, Gen.Char["\"\\/ "]));

    private static readonly Gen<string> Text = Gen.Frequency(
        (4, Gen.String[Gen.Char['a', 'z'], 1, 8]),
        (2, Gen.String[AnyChar, 0, 10]),
        (1, Gen.Const(string.Empty)),
        (1, Gen.Const("   ")),
        (1, Gen.Const(new string('x', 300))));

    private static readonly Gen<string> Number = Gen.Frequency(
        (4, Gen.Decimal[-1_000_000m, 1_000_000m].Select(d => d.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf<string>("1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "007", "-0", "1.", ".5", "79228162514264337593543950336", "0.00000000000000000000000000001",
            "5e28", "1000000000", "-1000000000", "1000000000.01", "79228162514264337593543950335", "-79228162514264337593543950335", "8589934592")));

    private static readonly Gen<string> Time = Gen.Frequency(
        (4, Gen.Long[Now - (10L * 86_400_000), Now + (2L * 86_400_000)].Select(ms => Json(DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)))),
        (1, Gen.Long[Now - 86_400_000, Now + 86_400_000].Select(ms => ms.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Long[Now - 86_400_000, Now].Select(ms => Json(DateTimeOffset.FromUnixTimeMilliseconds(ms).ToOffset(TimeSpan.FromHours(-5)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture)))),
        (2, Gen.OneOf<string>(
            "\"0001-01-01T00:00:00Z\"", "\"1970-01-01T00:00:00Z\"", "0", "-1", "\"9999-12-31T23:59:59Z\"", "253402300799999", "253402300800000",
            "\"2026-11-26T12:00:00\"", "\"2026-11-26\"", "\"\"", "\"yesterday\"", "true", "null", "1e400", "[]", "{}")));

    private static string Json(string text) => JsonSerializer.Serialize(text);

    /// <summary>A JSON value of any kind, strings escaped properly or written raw (then often invalid).</summary>
    private static readonly Gen<string> Value = Gen.Frequency(
        (3, Text.Select(Json)),
        (1, Text.Select(t => "\"" + t + "\"")),
        (2, Number),
        (1, Gen.OneOf<string>("true", "false", "null", "[]", "{}", "[1,[2,[3]]]", "{\"a\":{\"b\":1}}", new string('[', 40) + new string(']', 40))));

    /// <summary>Field names: the real ones most of the time, repeated sometimes, and others.</summary>
    private static readonly Gen<string> Name = Gen.Frequency(
        (10, Gen.OneOf<string>("user_id", "amount", "merchant", "ts", "tx_id")),
        (1, Gen.OneOf<string>("User_Id", "", "user_id ", "note", "\\u0075ser_id")),
        (1, Text));

    /// <summary>
    /// An object: usually the four fields the service needs with good or hostile values, sometimes
    /// extra or repeated fields; the key usually matches the user id, sometimes not, sometimes null.
    /// </summary>
    private static readonly Gen<(byte[]? Key, byte[] Value)> Record =
        Gen.Select(
            Gen.Frequency((4, Gen.String[Gen.Char['a', 'z'], 1, 6].Select(Json)), (1, Value)),
            Gen.Frequency((4, Number), (1, Value)),
            Gen.Frequency((4, Time), (1, Value)),
            Gen.Frequency((3, Text.Select(Json)), (1, Value)),
            Gen.Select(Name, Value).Array[0, 3],
            Gen.Frequency((8, Gen.Const(0)), (1, Gen.Const(1)), (1, Gen.Const(2)), (1, Gen.Const(3))),
            Gen.Frequency((1, Gen.Const(0)), (1, Gen.Const(5000))))
        .Select((user, amount, ts, txId, extra, keyKind, padding) =>
        {
            var fields = new List<string> { $"\"user_id\":{user}", $"\"amount\":{amount}", $"\"ts\":{ts}", $"\"tx_id\":{txId}" };
            fields.AddRange(extra.Select(f => $"{Json(f.Item1)}:{f.Item2}"));
            if (padding > 0)
            {
                fields.Add($"\"pad\":\"{new string('p', padding)}\"");
            }

            var json = "{" + string.Join(",", fields) + "}";
            var userText = user.StartsWith('"') ? TryString(user) : null;
            byte[]? key = keyKind switch
            {
                0 => userText is null ? Encoding.UTF8.GetBytes(user) : Encoding.UTF8.GetBytes(userText),
                1 => null,
                2 => [],
                _ => Encoding.UTF8.GetBytes((userText ?? user) + "x"),
            };
            return (key, Encoding.UTF8.GetBytes(json));
        });

    private static string? TryString(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<string>(json);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return null; // raw text, or lone surrogates that have no UTF-8 form
        }
    }
}
