using System.Globalization;
using FraudActors.Messages.Transactions;

namespace FraudActors.Service.Producing;

/// <param name="Seed">Seeds the only source of randomness: the same options give the same stream.</param>
/// <param name="Users">Background users, <c>u1</c>, <c>u2</c>, … (the bursting users' ids are skipped).</param>
/// <param name="Rate">Background transactions per second of event time.</param>
/// <param name="Start">Event time of the stream's start.</param>
/// <param name="Count">Total transactions, bursts included; null for an endless stream.</param>
public sealed record GeneratorOptions(int Seed, int Users, double Rate, DateTimeOffset Start, long? Count);

/// <summary>
/// The lab's <c>produce_transactions.py</c> as a pure, deterministic stream in event-time order:
/// background users at a steady rate, none of whom ever makes more than
/// <see cref="BackgroundCap"/> transactions within 60 s (so they never alert), and the bursting
/// users u901 (at 5 s) and u902 (at 20 s) of every 30 s cycle, 8 transactions within ~2.5 s each.
/// </summary>
public sealed class TransactionGenerator(GeneratorOptions options)
{
    public const int BackgroundCap = 3;
    public const int BurstSize = 8;
    public static readonly TimeSpan Cycle = TimeSpan.FromSeconds(30);
    public static readonly IReadOnlyList<(string User, TimeSpan Offset)> Bursts = [("u901", TimeSpan.FromSeconds(5)), ("u902", TimeSpan.FromSeconds(20))];

    private static readonly TimeSpan CapWindow = TimeSpan.FromSeconds(60);
    private static readonly string[] Merchants =
        ["gas_station", "grocery", "online", "restaurant", "electronics", "travel", "pharmacy", "coffee_shop"];

    private static readonly string[] BurstMerchants = ["online", "electronics", "gift_cards"];

    /// <summary>An error naming the option, or null when the options are usable.</summary>
    public static string? Validate(GeneratorOptions o)
    {
        if (o.Users < 1)
        {
            return "--users must be at least 1";
        }

        if (!(o.Rate > 0) || double.IsInfinity(o.Rate))
        {
            return "--rate must be a positive number";
        }

        // With more than 60 * rate / cap users, some user always has room under the cap.
        var needed = MinimumUsers(o.Rate);
        return o.Users < needed
            ? string.Create(CultureInfo.InvariantCulture, $"--rate {o.Rate} needs at least {needed} --users (got {o.Users}): background users must stay under {BackgroundCap} transactions per minute so that only u901/u902 alert")
            : null;
    }

    public static long MinimumUsers(double rate) => (long)Math.Ceiling(rate * CapWindow.TotalSeconds / BackgroundCap) + 1;

    /// <summary>The wire record: key = user_id, value = the transaction's JSON.</summary>
    public static (string? Key, byte[] Value) ToRecord(Transaction tx) => (tx.UserId, TransactionJson.Serialize(tx));

    public IEnumerable<Transaction> Generate()
    {
        if (Validate(options) is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        var random = new Random(options.Seed);
        var recent = new Queue<long>[options.Users];
        var background = 0L;
        var cycle = 0L;
        var burst = NextBursts(cycle, random);
        var emitted = 0L;
        while (options.Count is null || emitted < options.Count)
        {
            var backgroundTime = options.Start.AddTicks((long)(background * TimeSpan.TicksPerSecond / options.Rate));
            Transaction tx;
            if (burst.Count > 0 && burst.Peek().Timestamp <= backgroundTime)
            {
                tx = burst.Dequeue() with { TxId = TxId(emitted) };
                if (burst.Count == 0)
                {
                    burst = NextBursts(++cycle, random);
                }
            }
            else
            {
                var user = PickBackgroundUser(random, recent, backgroundTime.ToUnixTimeMilliseconds());
                tx = new Transaction(
                    UserId(user),
                    Math.Round((decimal)(1 + (random.NextDouble() * 299)), 2),
                    Merchants[random.Next(Merchants.Length)],
                    backgroundTime,
                    TxId(emitted));
                background++;
            }

            emitted++;
            yield return tx;
        }
    }

    /// <summary>Both bursts of a cycle, in time order; the jitter keeps each burst's order.</summary>
    private Queue<Transaction> NextBursts(long cycle, Random random)
    {
        var start = options.Start + (Cycle * cycle);
        var all = new List<Transaction>();
        foreach (var (user, offset) in Bursts)
        {
            for (var i = 0; i < BurstSize; i++)
            {
                var at = start + offset + TimeSpan.FromMilliseconds((i * 300) + random.Next(0, 100));
                all.Add(new Transaction(user, Math.Round((decimal)(5 + (random.NextDouble() * 95)), 2), BurstMerchants[random.Next(BurstMerchants.Length)], at));
            }
        }

        return new Queue<Transaction>(all.OrderBy(t => t.Timestamp));
    }

    private int PickBackgroundUser(Random random, Queue<long>[] recent, long nowMs)
    {
        var first = random.Next(recent.Length);
        for (var probe = 0; probe < recent.Length; probe++)
        {
            var user = (first + probe) % recent.Length;
            var history = recent[user] ??= new Queue<long>(BackgroundCap);

            // The rule counts t' >= t - 60 s, so the cap is kept on that same closed window.
            while (history.Count > 0 && history.Peek() < nowMs - (long)CapWindow.TotalMilliseconds)
            {
                history.Dequeue();
            }

            if (history.Count < BackgroundCap)
            {
                history.Enqueue(nowMs);
                return user;
            }
        }

        throw new InvalidOperationException($"every one of {recent.Length} users is at the cap; Validate should have refused rate {options.Rate}");
    }

    /// <summary>u1, u2, …, skipping the bursting users' ids.</summary>
    private static string UserId(int index)
    {
        var n = index + 1;
        foreach (var (user, _) in Bursts)
        {
            if (n >= int.Parse(user.AsSpan(1), CultureInfo.InvariantCulture))
            {
                n++;
            }
        }

        return "u" + n.ToString(CultureInfo.InvariantCulture);
    }

    private static string TxId(long sequence) => "tx-" + sequence.ToString(CultureInfo.InvariantCulture);
}
