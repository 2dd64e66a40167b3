using FraudActors.FraudService.Producing;
using FraudActors.Messages.Transactions;

namespace FraudActors.FraudService.Tests.Producing;

public sealed class HostileRecordsTests
{
    private static readonly IReadOnlyList<Transaction> Valid =
        new TransactionGenerator(new GeneratorOptions(7, 2000, 40, new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero), 5000)).Generate().ToList();

    [Fact]
    public void Every_kind_gets_its_expected_reason_from_the_parser_and_a_duplicate_parses_as_its_original()
    {
        var parser = new TransactionParser();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var hostile = new HostileRecords(1, 0.1);
        foreach (var (kind, reason) in HostileRecords.Kinds)
        {
            for (var i = 0; i < 20; i++)
            {
                var tx = Valid[i];
                var (key, value) = hostile.Make(kind, tx, [Valid[0]]);
                var outcome = parser.Parse(key, key is not null, value ?? [], now);
                if (reason == RejectReason.DuplicateTransaction)
                {
                    // The parser cannot tell: the user actor, which remembers tx_ids, refuses it.
                    Assert.Equal(Valid[0], outcome.Transaction);
                    continue;
                }

                Assert.False(outcome.IsValid, $"{kind} parsed as valid");
                Assert.True(reason == outcome.Reason, $"{kind}: expected {reason.WireName()}, got {outcome.Reason.WireName()} ({outcome.Detail})");
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
            HostileRecords.Kinds.Single(k => k.Kind == r.Header(HostileRecords.KindHeader)).Reason.WireName(),
            r.Header(HostileRecords.ExpectedReasonHeader)));

        var again = new HostileRecords(3, 0.1).Mix(Valid).ToList();
        Assert.Equal(
            mixed.Select(r => r.Header(HostileRecords.KindHeader)),
            again.Select(r => r.Header(HostileRecords.KindHeader)));
    }
}
