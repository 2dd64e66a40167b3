using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FraudActors.Engine.Checkpoints;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;
using Npgsql;

namespace FraudActors.EndToEnd.Tests.Faults;

/// <summary>
/// The lecture's promise, tested for real: the service on PostgreSQL is killed with SIGKILL
/// while it works, restarted, and ends with exactly the alerts and window results it would have
/// had without the crashes: none twice on the topics or in the tables, none missing, and every
/// user's checkpointed transaction count equal to the input's. Both velocity rules run, so the
/// timer rule's timers and the windows' ends must survive the kills and fire once.
/// </summary>
public sealed partial class CrashRecoveryTests
{
    private const int Seed = 7;
    private const int Count = 20_000;
    private const int Users = 3000;
    private const double Rate = 40;
    private const string Group = "crash-test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public Task Three_kill_9s_while_processing_lose_no_alert_or_window_result_duplicate_none_and_count_every_transaction_once() =>
        KillThreeTimesAsync("crash", RulesFile.Value, (_, _) => Task.CompletedTask);

    /// <summary>
    /// The same with state beyond memory at work: a cache of 64 KiB (a few hundred of the 3,000
    /// users' states) and users passivated after 1 s idle, so users leave, are evicted and come
    /// back from the store all through the stream, and after each kill every user is only in the
    /// store. The cache keeps within its bound, users are read from the store, and the results
    /// are as exact as with everything in memory.
    /// </summary>
    [Fact]
    public Task With_a_small_state_cache_users_come_back_from_the_store_and_three_kill_9s_still_lose_nothing() =>
        KillThreeTimesAsync("crash_small_cache", SmallCacheFile.Value, async (final, restarts) =>
        {
            // After a kill the partitions recover with their users in the store, not in memory.
            var recovered = restarts.Select(l => RecoveredLine().Match(l)).Where(m => m.Success).Select(m => (Users: long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), InMemory: long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
            Assert.Contains(recovered, r => r.Users > 500 && r.InMemory * 4 < r.Users);

            using var http = new HttpClient { BaseAddress = await HttpAddressAsync(final) };
            var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(64 * 1024, Metric(metrics, "fraud_state_cache_capacity_bytes"));
            Assert.InRange(Metric(metrics, "fraud_state_cache_bytes"), 1, 64 * 1024);
            Assert.True(Metric(metrics, "fraud_state_store_read_users_total") > 500, "few users were read from the store:\n" + string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("fraud_state", StringComparison.Ordinal) || l.StartsWith("fraud_active", StringComparison.Ordinal))));
        },
        flushLast: true);

    private static async Task KillThreeTimesAsync(string name, string config, Func<FraudProcess, List<string>, Task> beforeFinalStop, bool flushLast = false)
    {
        var database = await TestPostgres.CreateDatabaseAsync(name);
        var bootstrapFile = Path.GetTempFileName();
        await using var broker = FraudProcess.Start("broker", "--bootstrap-file", bootstrapFile);
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var (produced, producer) = await FraudProcess.RunAsync(
            Timeout, "produce", "--bootstrap", bootstrap, "--seed", $"{Seed}", "--count", $"{Count}", "--users", $"{Users}", "--rate", $"{Rate}", "--max-speed");
        Assert.True(produced == 0, producer.StandardError);

        // One record a day later on each partition (the drill's flush records) moves every
        // watermark past every real window: all of them must close, also for users that received
        // nothing more before a kill, while the flush users' own windows stay open.
        // Produced after the kills when flushLast: the final run then wakes every user with an
        // open window, so it cannot be idle however far the killed runs got.
        var parser = new TransactionParser();
        var last = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout).Max(r => parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!.Timestamp);
        if (!flushLast)
        {
            await FlushRecords.ProduceAsync(bootstrap, "transactions", 3, last, CancellationToken.None);
        }

        var resumedFrom = new List<string>();
        var restarts = new List<string>();
        foreach (var fraction in new[] { 0.1, 0.35, 0.6 })
        {
            await using var service = StartService(bootstrap, database, config);

            // Kill once the checkpoints have committed past this fraction of the stream: the node
            // is then mid-stream, with records applied beyond its last commit.
            await Eventually.TrueAsync(
                () => Committed(bootstrap) >= fraction * Count || service.HasExited,
                Timeout,
                () => service.StandardErrorTail());
            Assert.False(service.HasExited, service.StandardErrorTail());
            await service.KillHardAsync();
            resumedFrom.AddRange(service.StandardError.Split('\n').Where(l => l.Contains("resuming at offset", StringComparison.Ordinal)));
            restarts.AddRange(service.StandardError.Split('\n'));
        }

        if (flushLast)
        {
            await FlushRecords.ProduceAsync(bootstrap, "transactions", 3, last, CancellationToken.None);
        }

        var transactions = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout);
        Assert.Equal(Count + 3, transactions.Count);
        await using (var final = StartService(bootstrap, database, config))
        {
            // Running (its stop handler is in place) and caught up with the whole stream.
            await Eventually.TrueAsync(() => final.StandardError.Contains("Partitions assigned", StringComparison.Ordinal), Timeout, () => final.StandardErrorTail());
            await Eventually.TrueAsync(() => Committed(bootstrap) == transactions.Count, Timeout, () => final.StandardErrorTail());
            await beforeFinalStop(final, [.. restarts, .. final.StandardError.Split('\n')]);
            final.Interrupt();
            Assert.Equal(0, await final.WaitForExitAsync(Timeout));
            resumedFrom.AddRange(final.StandardError.Split('\n').Where(l => l.Contains("resuming at offset", StringComparison.Ordinal)));
        }

        // Every restart resumed from its partition journals, mid-stream.
        Assert.Contains(resumedFrom, l => !l.Contains("(group offset)", StringComparison.Ordinal));

        var expected = ReferenceAlertIds(transactions);
        Assert.Contains(expected, id => id.StartsWith("timer-velocity:", StringComparison.Ordinal));
        var onTopic = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout)
            .Select(r => AlertJson.Deserialize(r.Message.Value).AlertId)
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(onTopic.Count, onTopic.Distinct().Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT alert_id, published FROM alerts", connection);
        var table = new List<(string Id, bool Published)>();
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                table.Add((reader.GetString(0), reader.GetBoolean(1)));
            }
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), table.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.All(table, r => Assert.True(r.Published));

        // Every window result once on its topic and in its table, as the reference computes them.
        var expectedWindows = WindowReference.Compute(Records(transactions), TimeSpan.FromSeconds(5), tumbling: TimeSpan.FromMinutes(5), sessionGap: TimeSpan.FromMinutes(10));
        var windows = KafkaTestTopics.ReadAll(bootstrap, "user-window-counts", Timeout)
            .Concat(KafkaTestTopics.ReadAll(bootstrap, "user-sessions", Timeout))
            .Select(r => WindowResultJson.Deserialize(r.Message.Value))
            .Select(w => (w.ResultId, w.Count, w.TotalAmount))
            .ToList();
        Assert.Contains(expectedWindows, w => w.ResultId.StartsWith("session:", StringComparison.Ordinal));
        var (duplicated, missing, extra, wrong) = WindowReference.Compare(expectedWindows, windows);
        Assert.Empty(duplicated);
        Assert.Empty(missing);
        Assert.Empty(extra);
        Assert.Empty(wrong);
        await using (var results = new NpgsqlCommand("SELECT result_id FROM window_results WHERE published", connection))
        await using (var rows = await results.ExecuteReaderAsync())
        {
            var inTable = new List<string>();
            while (await rows.ReadAsync())
            {
                inTable.Add(rows.GetString(0));
            }

            Assert.Equal(expectedWindows.Select(w => w.ResultId).Order(StringComparer.Ordinal), inTable.Order(StringComparer.Ordinal));
        }

        // Every record applied exactly once to its user's state, whatever the kills interrupted.
        var counts = CountReference.Expected(transactions.Select(r => parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value).Transaction!));
        var state = await JournalReader.ReadUsersAsync("postgres", database, "transactions", 3, Timeout);
        Assert.NotEmpty(counts);
        Assert.Empty(CountReference.Differences(counts, state));

        // The Checkpoints tab: the history the runs wrote, read back by `fraud checkpoints`.
        var (listed, history) = await FraudProcess.RunAsync(Timeout, "checkpoints", "--store", "postgres", "--connection", database, "--limit", "5");
        Assert.True(listed == 0, history.StandardErrorTail());
        Assert.StartsWith("5 newest checkpoints:", history.StandardOutput.First(), StringComparison.Ordinal);
        Assert.Equal(5, history.StandardOutput.Count(l => l.EndsWith(" Completed", StringComparison.Ordinal)));

        long Committed(string b) => KafkaTestTopics.CommittedOffsets(b, Group, "transactions", 3, TimeSpan.FromSeconds(10))
            .Sum(c => Math.Max(0, c.Value));
    }

    private static FraudProcess StartService(string bootstrap, string database, string config) => FraudProcess.Start(
        new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = database },
        "run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms", "--config", config, "--http", "127.0.0.1:0");

    /// <summary>The rules as in <see cref="RulesFile"/>, a 64 KiB state cache and users passivated after 1 s idle.</summary>
    private static readonly Lazy<string> SmallCacheFile = new(() =>
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fraud.rules.timer-velocity.enabled = on\nfraud.state.cache-bytes = 64KiB\nfraud.users.passivate-after = 1s\n");
        return file;
    });

    private static async Task<Uri> HttpAddressAsync(FraudProcess service)
    {
        await Eventually.TrueAsync(() => HttpLine().IsMatch(service.StandardError), Timeout, () => service.StandardErrorTail());
        return new Uri(HttpLine().Match(service.StandardError).Groups[1].Value);
    }

    /// <summary>A Prometheus sample without labels: "name value".</summary>
    private static double Metric(string exposition, string name) =>
        double.Parse(exposition.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);

    [GeneratedRegex(@"recovered epoch \d+, next offset \S+, watermark \S+, (\d+) users \((\d+) in memory\)")]
    private static partial Regex RecoveredLine();

    [GeneratedRegex(@"HTTP API and dashboard on (http://\S+/)")]
    private static partial Regex HttpLine();

    /// <summary>The timer rule on beside the sliding one; windows as by default (tumbling 5 min, sessions 10 min).</summary>
    private static readonly Lazy<string> RulesFile = new(() =>
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fraud.rules.timer-velocity.enabled = on\n");
        return file;
    });

    private static List<(int Partition, long Offset, Transaction Transaction)> Records(List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]>> records)
    {
        var parser = new TransactionParser();
        return [.. records.Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value).Transaction!))];
    }

    private static List<string> ReferenceAlertIds(List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]>> records) =>
        [.. AlertReference.SlidingVelocityIds(Records(records)), .. AlertReference.TimerVelocityIds(Records(records))];
}
