using System.Text;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Tests.Transactions;

public sealed class TransactionParserTests
{
    private readonly TransactionParser _parser = new(maxValueBytes: 1024);

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
            ["oversized", "invalid-json", "missing-user-id", "invalid-amount", "invalid-ts", "invalid-field", "missing-key", "key-mismatch", "late"],
            Enum.GetValues<RejectReason>().Select(r => r.WireName()));
    }

    private ParseOutcome Parse(string key, string value) =>
        _parser.Parse(Encoding.UTF8.GetBytes(key), hasKey: true, Encoding.UTF8.GetBytes(value));
}
