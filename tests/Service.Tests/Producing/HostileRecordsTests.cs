using FraudActors.Messages.Transactions;
using FraudActors.Service.Producing;

namespace FraudActors.Service.Tests.Producing;

public sealed class HostileRecordsTests
{
    private static readonly IReadOnlyList<Transaction> Valid =
        new TransactionGenerator(new GeneratorOptions(7, 2000, 40, new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero), 5000)).Generate().ToList();

    [Fact]
    public void Every_kind_gets_its_expected_reason_from_the_parser_and_a_duplicate_parses_as_its_original()
    {
        // The service's parser, reading at the time the records are made; a record without its
        // own CreateTime gets the producer's clock, as librdkafka stamps it.
        var now = DateTimeOffset.UtcNow;
        var parser = new TransactionParser(clock: new FixedClock(now));
        var hostile = new HostileRecords(1, 0.1);
        foreach (var (kind, reason) in HostileRecords.Kinds)
        {
            for (var i = 0; i < 20; i++)
            {
                var tx = Valid[i];
                var records = hostile.Make(kind, tx, [Valid[0]]);
                Assert.Equal(kind == "amount-5e28-thrice" ? 3 : 1, records.Count);
                foreach (var record in records)
                {
                    var outcome = parser.Parse(record.Key, record.Key is not null, record.Value ?? [], record.TimestampMs ?? now.ToUnixTimeMilliseconds());
                    if (reason == RejectReason.DuplicateTransaction)
                    {
                        // The parser cannot tell: the user actor, which remembers tx_ids, refuses it.
                        Assert.Equal(Valid[0], outcome.Transaction);
                        continue;
                    }

                    if (reason is null)
                    {
                        Assert.True(outcome.IsValid, $"{kind} was refused: {outcome.Detail}");
                        Assert.Equal(tx.UserId, outcome.Transaction!.UserId);
                        Assert.Null(outcome.Transaction.TxId);
                        continue;
                    }

                    Assert.False(outcome.IsValid, $"{kind} parsed as valid");
                    Assert.True(reason == outcome.Reason, $"{kind}: expected {reason.Value.WireName()}, got {outcome.Reason.WireName()} ({outcome.Detail})");
                }
            }
        }
    }

    [Fact]
    public void The_overflow_triple_is_three_records_of_one_user_with_an_amount_within_a_decimal_whose_sum_is_not()
    {
        var records = new HostileRecords(1, 0.1).Make("amount-5e28-thrice", Valid[0], []);
        Assert.All(records, r => Assert.Equal(Valid[0].UserId, System.Text.Encoding.UTF8.GetString(r.Key!)));
        var amount = decimal.Parse(HostileRecords.OverflowAmount, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Throws<OverflowException>(() => amount + amount + amount);
    }

    [Fact]
    public void Kafka_timestamps_are_forged_only_by_the_kinds_about_them_and_none_is_zero()
    {
        var hostile = new HostileRecords(5, 0.1);
        foreach (var (kind, _) in HostileRecords.Kinds)
        {
            var stamps = Enumerable.Range(0, 20).SelectMany(i => hostile.Make(kind, Valid[i], [Valid[0]])).Select(r => r.TimestampMs).ToList();
            if (kind.StartsWith("kafka-ts-", StringComparison.Ordinal) || kind.StartsWith("create-time-", StringComparison.Ordinal))
            {
                // librdkafka sends 0 as "now": a zero here would test nothing.
                Assert.All(stamps, s => Assert.True(s is not null and not 0, $"{kind}: {s}"));
            }
            else
            {
                Assert.All(stamps, s => Assert.Null(s));
            }
        }
    }

    [Fact]
    public void The_mix_keeps_the_valid_stream_in_order_adds_about_the_share_and_every_kind_and_repeats_itself_for_a_seed()
    {
        var mixed = new HostileRecords(3, 0.1).Mix(Valid).ToList();
        var bad = mixed.Where(r => r.Header(HostileRecords.KindHeader) is not null).ToList();
        var good = mixed.Where(r => r.Header(HostileRecords.KindHeader) is null).ToList();

        Assert.Equal(Valid.Select(TransactionGenerator.ToRecord).Select(r => r.Value), good.Select(r => r.Value));
        Assert.InRange(bad.Count / (double)mixed.Count, 0.08, 0.12);
        Assert.Equal(HostileRecords.Kinds.Select(k => k.Kind).Order(), bad.Select(r => r.Header(HostileRecords.KindHeader)!).Distinct().Order());
        Assert.All(bad, r => Assert.Equal(
            HostileRecords.ExpectedReason(HostileRecords.Kinds.Single(k => k.Kind == r.Header(HostileRecords.KindHeader)).Reason),
            r.Header(HostileRecords.ExpectedReasonHeader)));
        Assert.Contains(bad, r => r.Header(HostileRecords.ExpectedReasonHeader) == HostileRecords.Accepted);

        var again = new HostileRecords(3, 0.1).Mix(Valid).ToList();
        Assert.Equal(
            mixed.Select(r => r.Header(HostileRecords.KindHeader)),
            again.Select(r => r.Header(HostileRecords.KindHeader)));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
