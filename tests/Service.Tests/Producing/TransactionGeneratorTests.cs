using FraudActors.Messages.Transactions;
using FraudActors.Service.Producing;

namespace FraudActors.Service.Tests.Producing;

public sealed class TransactionGeneratorTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_same_seed_gives_the_same_stream_and_another_seed_another()
    {
        var a = Generate(seed: 7, count: 2000);
        Assert.Equal(a, Generate(seed: 7, count: 2000));
        Assert.NotEqual(a, Generate(seed: 8, count: 2000));
    }

    [Fact]
    public void Event_time_never_goes_back_and_count_and_tx_ids_are_exact()
    {
        var stream = Generate(seed: 1, count: 5000);
        Assert.Equal(5000, stream.Count);
        Assert.All(stream.Zip(stream.Skip(1), (earlier, later) => (earlier, later)), pair => Assert.True(pair.earlier.Timestamp <= pair.later.Timestamp));
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"tx-{i}"), stream.Select(t => t.TxId));
    }

    [Fact]
    public void U901_and_u902_burst_8_transactions_within_a_few_seconds_every_30_seconds()
    {
        // Rate 20/s for 6000 background transactions: 300 s of event time, 10 cycles.
        var stream = Generate(seed: 3, count: 6000 + (10 * 16), users: 1000, rate: 20);
        foreach (var (user, offset) in TransactionGenerator.Bursts)
        {
            var cycles = stream.Where(t => t.UserId == user)
                .GroupBy(t => (long)((t.Timestamp - Start).TotalSeconds / 30))
                .ToList();
            Assert.Equal(10, cycles.Count);
            foreach (var cycle in cycles)
            {
                Assert.Equal(8, cycle.Count());
                Assert.True(cycle.Max(t => t.Timestamp) - cycle.Min(t => t.Timestamp) < TimeSpan.FromSeconds(3));
                Assert.Equal(Start + TimeSpan.FromSeconds(30 * cycle.Key) + offset, cycle.Min(t => t.Timestamp), TimeSpan.FromMilliseconds(100));
            }
        }
    }

    [Fact]
    public void No_background_user_ever_makes_more_than_3_transactions_within_60_seconds()
    {
        // Near the capacity limit, so the cap is what keeps users apart, not luck.
        var stream = Generate(seed: 11, count: 20_000, users: 1001, rate: 50);
        foreach (var user in stream.Where(t => !t.UserId.StartsWith("u90", StringComparison.Ordinal) || t.UserId.Length != 4).GroupBy(t => t.UserId))
        {
            var times = user.Select(t => t.Timestamp).ToList();
            for (var i = 0; i < times.Count; i++)
            {
                Assert.True(times.Count(t => t >= times[i].AddSeconds(-60) && t <= times[i]) <= 3, $"{user.Key} at {times[i]:O}");
            }
        }
    }

    [Fact]
    public void Background_users_never_take_the_bursting_users_ids()
    {
        var ids = Generate(seed: 5, count: 30_000, users: 1500, rate: 20).Select(t => t.UserId).Distinct().ToList();
        Assert.Equal(1500 + 2, ids.Count);
        Assert.Contains("u1502", ids);
        Assert.DoesNotContain("u1503", ids);
    }

    [Fact]
    public void Validate_refuses_a_rate_the_users_cannot_carry_under_the_cap()
    {
        var error = TransactionGenerator.Validate(new GeneratorOptions(1, 100, 20, Start, null));
        Assert.NotNull(error);
        Assert.Contains("--rate", error, StringComparison.Ordinal);
        Assert.Contains("401", error, StringComparison.Ordinal);
        Assert.Null(TransactionGenerator.Validate(new GeneratorOptions(1, 401, 20, Start, null)));
        Assert.NotNull(TransactionGenerator.Validate(new GeneratorOptions(1, 401, 0, Start, null)));
    }

    [Fact]
    public void Records_are_keyed_by_user_and_parse_back_to_the_transaction()
    {
        var tx = Generate(seed: 2, count: 1)[0];
        var (key, value) = TransactionGenerator.ToRecord(tx);
        Assert.Equal(tx.UserId, key);
        Assert.Equal(tx, new TransactionParser().Parse(System.Text.Encoding.UTF8.GetBytes(key!), hasKey: true, value).Transaction);
    }

    private static List<Transaction> Generate(int seed, long count, int users = 1000, double rate = 20) =>
        [.. new TransactionGenerator(new GeneratorOptions(seed, users, rate, Start, count)).Generate()];
}
