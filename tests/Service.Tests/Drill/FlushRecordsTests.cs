using System.Text;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Tooling.Drill;

namespace FraudActors.Service.Tests.Drill;

/// <summary>The drill's flush records: they close every real window and none of their own.</summary>
public sealed class FlushRecordsTests
{
    private static readonly WindowSettings Defaults = new(Tumbling: TimeSpan.FromMinutes(5), SessionGap: TimeSpan.FromMinutes(10));

    [Theory]
    [InlineData("2026-03-17T09:41:39.975Z", "2026-03-18T10:00:00.000Z")]
    [InlineData("2026-03-17T09:00:00.000Z", "2026-03-18T09:00:00.000Z")]
    [InlineData("2026-12-31T23:59:59.999Z", "2027-01-02T00:00:00.000Z")]
    public void They_come_at_least_a_day_after_the_newest_transaction_on_a_whole_hour(string newest, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), FlushRecords.Time(DateTimeOffset.Parse(newest, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_flush_record_is_a_valid_transaction_of_its_own_user()
    {
        var tx = FlushRecords.For(2, FlushRecords.Time(ProduceCommand.SeededStart));
        var parsed = new TransactionParser().Parse(Encoding.UTF8.GetBytes(tx.UserId), true, TransactionJson.Serialize(tx));
        Assert.Equal(tx, parsed.Transaction);
        Assert.Equal("flush-p2", tx.UserId);
    }

    [Fact]
    public void With_them_every_real_window_is_expected_and_none_of_theirs()
    {
        var stream = new TransactionGenerator(new GeneratorOptions(7, Users: 3000, Rate: 40, ProduceCommand.SeededStart, 3000)).Generate()
            .Select((tx, i) => (Partition: int.Parse(tx.UserId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) % 3, Offset: (long)i, Transaction: tx))
            .ToList();
        var without = WindowResultsCheck.Expected(stream, TimeSpan.FromSeconds(5), Defaults);
        var newest = stream.Max(r => r.Transaction.Timestamp);
        var flushed = stream.Concat(Enumerable.Range(0, 3).Select(p => (Partition: p, Offset: (long)stream.Count + p, Transaction: FlushRecords.For(p, FlushRecords.Time(newest))))).ToList();
        var with = WindowResultsCheck.Expected(flushed, TimeSpan.FromSeconds(5), Defaults);

        // Every user's transactions are in exactly one tumbling window and one session once flushed.
        var users = stream.Select(r => r.Transaction.UserId).Distinct().Count();
        Assert.Equal(stream.Count, with.Where(e => e.ResultId.StartsWith("tumbling:", StringComparison.Ordinal)).Sum(e => e.Count));
        Assert.Equal(stream.Count, with.Where(e => e.ResultId.StartsWith("session:", StringComparison.Ordinal)).Sum(e => e.Count));
        Assert.True(with.Count(e => e.ResultId.StartsWith("session:", StringComparison.Ordinal)) >= users);
        Assert.True(without.Count < with.Count);
        Assert.DoesNotContain(with, e => e.ResultId.Contains(":flush-p", StringComparison.Ordinal));
    }

    [Fact]
    public void The_windows_are_described_as_configured()
    {
        Assert.Equal("tumbling 5 min, sessions with a 10 min gap", WindowResultsCheck.Describe(Defaults));
        Assert.Equal("sliding 10 min every 5 min, every 100 transactions", WindowResultsCheck.Describe(new WindowSettings(SlidingSize: TimeSpan.FromMinutes(10), SlidingSlide: TimeSpan.FromMinutes(5), CountSize: 100)));
        Assert.Equal("none", WindowResultsCheck.Describe(WindowSettings.None));
    }
}
