using System.Text;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Tests.Transactions;

public sealed class TransactionParserTests
{
    private readonly TransactionParser _parser = new(maxValueBytes: 1024, clock: new FixedClock(ReadAt));

    [Fact]
    public void The_lectures_record_parses()
    {
        var outcome = Parse("u42", """{"user_id": "u42", "amount": 99.95, "merchant": "gas_station", "ts": "2026-03-17T09:00:01.234Z"}""");
        Assert.True(outcome.IsValid);
        var tx = outcome.Transaction!;
        Assert.Equal("u42", tx.UserId);
        Assert.Equal(99.95m, tx.Amount);
        Assert.Equal("gas_station", tx.Merchant);
        Assert.Equal(new DateTimeOffset(2026, 3, 17, 9, 0, 1, 234, TimeSpan.Zero), tx.Timestamp);
        Assert.Null(tx.TxId);
    }

    [Fact]
    public void Optional_tx_id_offsets_and_unix_milliseconds_are_understood_and_unknown_fields_ignored()
    {
        var outcome = Parse("u1", """{"user_id":"u1","amount":1,"ts":"2026-03-17T10:00:01.234+01:00","tx_id":"t-9","extra":{"a":[1,2]}}""");
        Assert.True(outcome.IsValid, outcome.Detail);
        Assert.Equal("t-9", outcome.Transaction!.TxId);
        Assert.Equal(new DateTimeOffset(2026, 3, 17, 9, 0, 1, 234, TimeSpan.Zero), outcome.Transaction.Timestamp);

        var millis = Parse("u1", """{"user_id":"u1","amount":1,"ts":1773738001234}""");
        Assert.True(millis.IsValid, millis.Detail);
        Assert.Equal(new DateTimeOffset(2026, 3, 17, 9, 0, 1, 234, TimeSpan.Zero), millis.Transaction!.Timestamp);
    }

    [Fact]
    public void Serialize_then_parse_round_trips()
    {
        var tx = new Transaction("u7", 12.5m, "grocery", new DateTimeOffset(2026, 3, 17, 9, 0, 0, 5, TimeSpan.Zero), "tx-1");
        var outcome = _parser.Parse("u7"u8, hasKey: true, TransactionJson.Serialize(tx));
        Assert.Equal(tx, outcome.Transaction);
    }

    [Theory]
    [InlineData("""not json""", RejectReason.InvalidJson)]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z" """, RejectReason.InvalidJson)]
    [InlineData("""[1,2,3]""", RejectReason.InvalidJson)]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z"} trailing""", RejectReason.InvalidJson)]
    [InlineData("""{"amount":1,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.MissingUserId)]
    [InlineData("""{"user_id":"","amount":1,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.MissingUserId)]
    [InlineData("""{"user_id":"  ","amount":1,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.MissingUserId)]
    [InlineData("""{"user_id":42,"amount":1,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.MissingUserId)]
    [InlineData("""{"user_id":"u1","amount":"12.5","ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidAmount)]
    [InlineData("""{"user_id":"u1","amount":null,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidAmount)]
    [InlineData("""{"user_id":"u1","amount":1e400,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidAmount)]
    [InlineData("""{"user_id":"u1","ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidAmount)]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"yesterday"}""", RejectReason.InvalidTimestamp)]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00"}""", RejectReason.InvalidTimestamp)]
    [InlineData("""{"user_id":"u1","amount":1,"ts":true}""", RejectReason.InvalidTimestamp)]
    [InlineData("""{"user_id":"u1","amount":1}""", RejectReason.InvalidTimestamp)]
    [InlineData("""{"user_id":"u1","amount":1,"merchant":7,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidField)]
    public void Bad_values_are_rejected_with_their_reason(string value, RejectReason expected)
    {
        var outcome = Parse("u1", value);
        Assert.False(outcome.IsValid);
        Assert.Equal(expected, outcome.Reason);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Detail));
    }

    [Fact]
    public void NaN_and_Infinity_literals_are_not_json()
    {
        Assert.Equal(RejectReason.InvalidJson, Parse("u1", """{"user_id":"u1","amount":NaN,"ts":"2026-03-17T09:00:00Z"}""").Reason);
        Assert.Equal(RejectReason.InvalidJson, Parse("u1", """{"user_id":"u1","amount":Infinity,"ts":"2026-03-17T09:00:00Z"}""").Reason);
    }

    [Fact]
    public void Invalid_utf8_is_rejected_not_thrown()
    {
        var value = Encoding.UTF8.GetBytes("""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z","merchant":"X"}""");
        value[^3] = 0xFF;
        var outcome = _parser.Parse("u1"u8, hasKey: true, value);
        Assert.False(outcome.IsValid);
        Assert.Equal(RejectReason.InvalidJson, outcome.Reason);
    }

    [Fact]
    public void An_oversized_value_is_rejected_before_parsing()
    {
        var value = Encoding.UTF8.GetBytes($$"""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z","pad":"{{new string('x', 2000)}}"}""");
        var outcome = _parser.Parse("u1"u8, hasKey: true, value);
        Assert.Equal(RejectReason.Oversized, outcome.Reason);
        Assert.Contains("1024", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_or_empty_key_is_rejected()
    {
        var value = """{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z"}"""u8.ToArray();
        Assert.Equal(RejectReason.MissingKey, _parser.Parse(default, hasKey: false, value).Reason);
        Assert.Equal(RejectReason.MissingKey, _parser.Parse([], hasKey: true, value).Reason);
    }

    [Fact]
    public void A_key_that_differs_from_user_id_is_rejected()
    {
        var outcome = Parse("u2", """{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z"}""");
        Assert.Equal(RejectReason.KeyMismatch, outcome.Reason);
        Assert.Contains("u2", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Reasons_have_stable_wire_names()
    {
        Assert.Equal(
            ["oversized", "invalid-json", "missing-user-id", "invalid-amount", "invalid-ts", "invalid-field", "missing-key", "key-mismatch", "late", "invalid-user-id", "duplicate", "processing-error", "invalid-rule"],
            Enum.GetValues<RejectReason>().Select(r => r.WireName()));
    }

    [Theory]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"1999-12-31T23:59:59Z"}""", "before 2000-01-01")]
    [InlineData("""{"user_id":"u1","amount":1,"ts":0}""", "before 2000-01-01")]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"0001-01-01T00:00:00Z"}""", "before 2000-01-01")]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"2026-11-27T12:00:01Z"}""", "ahead of the record's Kafka timestamp")]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"9999-12-31T23:59:59Z"}""", "ahead of the record's Kafka timestamp")]
    public void Times_before_the_earliest_or_too_far_ahead_of_the_record_are_invalid(string value, string detail)
    {
        var recordTs = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var outcome = _parser.Parse("u1"u8, hasKey: true, Encoding.UTF8.GetBytes(value), recordTs);
        Assert.Equal(RejectReason.InvalidTimestamp, outcome.Reason);
        Assert.Contains(detail, outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_time_up_to_the_limit_ahead_is_accepted_and_old_records_replayed_years_later_too()
    {
        var recordTs = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.True(_parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2026-11-27T12:00:00Z"}"""u8, recordTs).IsValid);
        Assert.True(_parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2003-01-01T00:00:00Z"}"""u8, recordTs).IsValid);

        // Without a Kafka timestamp (processing time, a record read back) or with the limit off, only the earliest bound applies.
        Assert.True(_parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2099-01-01T00:00:00Z"}"""u8, recordTimestampMs: null).IsValid);
        var unbounded = new TransactionParser(bounds: TimestampBounds.None);
        Assert.True(unbounded.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":0}"""u8, recordTs).IsValid);
    }

    [Theory]
    [InlineData("""{"user_id":"u1","user_id":"u2","amount":1,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidJson, "user_id appears twice")]
    [InlineData("""{"user_id":"u1","amount":1,"amount":2,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidJson, "amount appears twice")]
    [InlineData("""{"user_id":"u1\u0007","amount":1,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidUserId, "control character U+0007")]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z","tx_id":"t\u0000"}""", RejectReason.InvalidField, "tx_id holds the control character")]
    [InlineData("""{"user_id":"u1","amount":NaN,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidJson, "")]
    [InlineData("""{"user_id":"u1","amount":Infinity,"ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidJson, "")]
    [InlineData("""{"user_id":"u1","amount":"NaN","ts":"2026-03-17T09:00:00Z"}""", RejectReason.InvalidAmount, "")]
    [InlineData("""{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z","deep":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}""", RejectReason.InvalidJson, "")]
    public void Repeated_fields_bad_ids_and_non_numbers_are_rejected(string value, RejectReason reason, string detail)
    {
        var key = value.Contains("u1\\u0007", StringComparison.Ordinal) ? "u1\u0007" : "u1";
        var outcome = Parse(key, value);
        Assert.Equal(reason, outcome.Reason);
        Assert.Contains(detail, outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_inside_a_string_and_an_over_long_user_id_are_rejected()
    {
        byte[] broken = [.. "{\"user_id\":\"u1"u8, 0xC3, 0x28, .. "\",\"amount\":1,\"ts\":\"2026-03-17T09:00:00Z\"}"u8];
        Assert.Equal(RejectReason.InvalidJson, _parser.Parse([.. "u1"u8, 0xC3, 0x28], hasKey: true, broken).Reason);

        var longId = new string('u', TransactionParser.MaxIdLength + 1);
        var outcome = Parse(longId, $$"""{"user_id":"{{longId}}","amount":1,"ts":"2026-03-17T09:00:00Z"}""");
        Assert.Equal(RejectReason.InvalidUserId, outcome.Reason);
        Assert.Contains("the limit is 256", outcome.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1000000000")]
    [InlineData("-1000000000")]
    [InlineData("999999999.999999999999")]
    [InlineData("0.0000000000000000000000000001")]
    public void Amounts_up_to_the_bound_are_accepted(string amount)
    {
        var outcome = Parse("u1", $$"""{"user_id":"u1","amount":{{amount}},"ts":"2026-03-17T09:00:00Z"}""");
        Assert.True(outcome.IsValid, outcome.Detail);
    }

    [Theory]
    [InlineData("1000000000.01")]
    [InlineData("-1000000000.01")]
    [InlineData("5e28")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("-79228162514264337593543950335")]
    public void Amounts_beyond_the_bound_are_invalid_amount(string amount)
    {
        var outcome = Parse("u1", $$"""{"user_id":"u1","amount":{{amount}},"ts":"2026-03-17T09:00:00Z"}""");
        Assert.Equal(RejectReason.InvalidAmount, outcome.Reason);
        Assert.Contains("beyond ±1000000000", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_amount_bound_is_configurable_up_to_the_limit_that_keeps_sums_from_overflowing()
    {
        var small = new TransactionParser(maxAbsAmount: 100m);
        Assert.True(small.Parse("u1"u8, true, """{"user_id":"u1","amount":100,"ts":"2026-03-17T09:00:00Z"}"""u8).IsValid);
        Assert.Equal(RejectReason.InvalidAmount, small.Parse("u1"u8, true, """{"user_id":"u1","amount":100.5,"ts":"2026-03-17T09:00:00Z"}"""u8).Reason);

        // The limit: a long count of amounts within it still fits a decimal.
        var limit = TransactionParser.MaxAbsAmountLimit;
        Assert.True(limit * long.MaxValue <= decimal.MaxValue);
        Assert.Throws<OverflowException>(() => (limit + 1) * long.MaxValue);
        _ = new TransactionParser(maxAbsAmount: TransactionParser.MaxAbsAmountLimit);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransactionParser(maxAbsAmount: TransactionParser.MaxAbsAmountLimit + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransactionParser(maxAbsAmount: 0));
    }

    [Fact]
    public void Merchant_and_tx_id_are_bounded_like_user_id()
    {
        var merchant = new string('m', TransactionParser.MaxMerchantLength);
        Assert.True(Parse("u1", $$"""{"user_id":"u1","amount":1,"merchant":"{{merchant}}","ts":"2026-03-17T09:00:00Z"}""").IsValid);
        var longMerchant = Parse("u1", $$"""{"user_id":"u1","amount":1,"merchant":"{{merchant}}m","ts":"2026-03-17T09:00:00Z"}""");
        Assert.Equal(RejectReason.InvalidField, longMerchant.Reason);
        Assert.Contains("merchant is 257 characters long, the limit is 256", longMerchant.Detail, StringComparison.Ordinal);

        var txId = new string('t', TransactionParser.MaxIdLength);
        Assert.True(Parse("u1", $$"""{"user_id":"u1","amount":1,"tx_id":"{{txId}}","ts":"2026-03-17T09:00:00Z"}""").IsValid);
        var longTxId = Parse("u1", $$"""{"user_id":"u1","amount":1,"tx_id":"{{txId}}t","ts":"2026-03-17T09:00:00Z"}""");
        Assert.Equal(RejectReason.InvalidField, longTxId.Reason);
        Assert.Contains("tx_id is 257 characters long, the limit is 256", longTxId.Detail, StringComparison.Ordinal);
    }

    private static readonly DateTimeOffset ReadAt = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(-5000L)]
    [InlineData(long.MinValue)]
    [InlineData(1L)]
    [InlineData(946684799999L)] // 1999-12-31T23:59:59.999Z, just before the earliest event time
    public void A_Kafka_timestamp_at_or_below_zero_or_before_the_earliest_is_replaced_by_the_time_of_reading(long recordTs)
    {
        var parser = new TransactionParser(clock: new FixedClock(ReadAt));
        Assert.True(parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2026-11-27T12:00:00Z"}"""u8, recordTs).IsValid);
        var ahead = parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2026-11-27T12:00:00.001Z"}"""u8, recordTs);
        Assert.Equal(RejectReason.InvalidTimestamp, ahead.Reason);
        Assert.Contains("ahead of the time it was read, 2026-11-26T12:00:00", ahead.Detail, StringComparison.Ordinal);
        Assert.Equal(RejectReason.InvalidTimestamp, parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"9999-12-31T23:59:59Z"}"""u8, recordTs).Reason);
    }

    [Theory]
    [InlineData("2126-11-26T12:00:00Z")]
    [InlineData("9999-12-31T23:59:59.999Z")]
    [InlineData("2026-11-27T12:00:00.001Z")] // just past the wall clock plus max-ts-ahead
    public void A_forged_far_future_Kafka_timestamp_lets_no_far_future_ts_through(string forged)
    {
        var parser = new TransactionParser(clock: new FixedClock(ReadAt));
        var recordTs = DateTimeOffset.Parse(forged, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        var outcome = parser.Parse("u1"u8, true, Encoding.UTF8.GetBytes($$"""{"user_id":"u1","amount":1,"ts":"{{forged}}"}"""), recordTs);
        Assert.Equal(RejectReason.InvalidTimestamp, outcome.Reason);
        Assert.Contains("is not a plausible time", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plausible_Kafka_timestamp_is_the_reference_so_at_most_twice_max_ts_ahead_passes_the_wall_clock()
    {
        var parser = new TransactionParser(clock: new FixedClock(ReadAt));
        var dayAhead = ReadAt.AddDays(1).ToUnixTimeMilliseconds();
        Assert.True(parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2026-11-28T12:00:00Z"}"""u8, dayAhead).IsValid);
        Assert.Equal(RejectReason.InvalidTimestamp, parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2026-11-28T12:00:00.001Z"}"""u8, dayAhead).Reason);

        // A forged past CreateTime from the earliest on is trusted: it only makes its own record stricter.
        var forgedPast = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var honestTs = parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2026-11-26T11:00:00Z"}"""u8, forgedPast);
        Assert.Equal(RejectReason.InvalidTimestamp, honestTs.Reason);
        Assert.Contains("ahead of the record's Kafka timestamp 2001-01-01", honestTs.Detail, StringComparison.Ordinal);
        Assert.True(parser.Parse("u1"u8, true, """{"user_id":"u1","amount":1,"ts":"2001-01-01T12:00:00Z"}"""u8, forgedPast).IsValid);
    }

    [Fact]
    public void An_honest_record_is_judged_the_same_when_read_again_years_later()
    {
        var recordTs = new DateTimeOffset(2026, 11, 26, 11, 59, 59, TimeSpan.Zero).ToUnixTimeMilliseconds();
        byte[] withinADay = """{"user_id":"u1","amount":1,"ts":"2026-11-27T11:59:59Z"}"""u8.ToArray();
        byte[] pastADay = """{"user_id":"u1","amount":1,"ts":"2026-11-27T11:59:59.001Z"}"""u8.ToArray();
        foreach (var later in new[] { ReadAt, ReadAt.AddHours(1), ReadAt.AddYears(3) })
        {
            var parser = new TransactionParser(clock: new FixedClock(later));
            Assert.True(parser.Parse("u1"u8, true, withinADay, recordTs).IsValid);
            Assert.Equal(RejectReason.InvalidTimestamp, parser.Parse("u1"u8, true, pastADay, recordTs).Reason);
        }
    }

    [Fact]
    public void A_huge_key_is_named_cut_in_the_detail()
    {
        var key = "u2" + new string('k', 1024 * 1024);
        var outcome = _parser.Parse(Encoding.UTF8.GetBytes(key), true, """{"user_id":"u1","amount":1,"ts":"2026-03-17T09:00:00Z"}"""u8);
        Assert.Equal(RejectReason.KeyMismatch, outcome.Reason);
        Assert.True(outcome.Detail.Length < 300, outcome.Detail);
        Assert.Contains("(1048578 bytes)", outcome.Detail, StringComparison.Ordinal);
    }

    private ParseOutcome Parse(string key, string value) =>
        _parser.Parse(Encoding.UTF8.GetBytes(key), hasKey: true, Encoding.UTF8.GetBytes(value));
}

/// <summary>A wall clock that stands still, so a test of the time of reading decides the same every run.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
