using System.Globalization;
using System.Text.RegularExpressions;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;
using Npgsql;

namespace FraudActors.EndToEnd.Tests.Rules;

/// <summary>
/// Dynamic rules on a real <c>fraud run</c> (dev broker, PostgreSQL): records of the
/// <c>rules</c> topic change sliding-velocity while the stream flows, and the alerts on the topic
/// and in the table are exactly those of an independent reference that applies each partition's
/// settings from the point its checkpoints recorded, each alert with the version of the settings
/// that raised it (docs/design.md, "Dynamic rules").
/// </summary>
public sealed partial class DynamicRulesTests
{
    private const int Part = 960;
    private const string Rule = "sliding-velocity";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);
    private static readonly DateTimeOffset T0 = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1);

    [Fact]
    public async Task A_rule_record_there_before_the_node_starts_applies_to_every_transaction_and_an_invalid_one_changes_nothing()
    {
        await using var job = await Job.StartAsync("rules_before_start");

        // Both before any transaction is read: the invalid one (offset 0) is refused, the valid one (offset 1) is version 2.
        await job.SetRuleAsync("""{"rule":"sliding-velocity","enabled":true,"params":{"threshold":0}}""");
        await job.SetRuleAsync("""{"rule":"sliding-velocity","enabled":true,"params":{"threshold":3,"window":"60s"}}""");
        await job.ProduceAsync(0, Part);

        await using (var service = job.StartService())
        {
            await job.CaughtUpAsync(service, Part);
            Assert.Contains("Rules topic rules: record at partition 0, offset 0 refused (params.threshold)", service.StandardError, StringComparison.Ordinal);
            await Job.StopAsync(service);
        }

        await job.AssertAlertsAsync((_, _) => (true, 3, 2));
        var refused = Assert.Single(KafkaTestTopics.ReadAll(job.Bootstrap, "rules.dlq", Timeout));
        Assert.Equal("invalid-rule", refused.Header("reason"));
        Assert.StartsWith("params.threshold: ", refused.Header("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_threshold_lowered_mid_stream_then_the_rule_switched_off_and_on_gives_exactly_the_reference_alerts()
    {
        await using var job = await Job.StartAsync("rules_mid_stream");
        await job.ProduceAsync(0, Part);
        await using (var service = job.StartService())
        {
            await job.CaughtUpAsync(service, Part);

            // Lowered (version 1), off (version 2), back to the configuration (a null record, version 3): each
            // recorded by a checkpoint of every partition before the next part of the stream.
            string?[] changes =
            [
                """{"rule":"sliding-velocity","enabled":true,"params":{"threshold":2}}""",
                """{"rule":"sliding-velocity","enabled":false}""",
                null,
            ];
            for (var i = 0; i < changes.Length; i++)
            {
                await job.SetRuleAsync(changes[i]);
                await Eventually.TrueAsync(() => Recorded(service.StandardError, version: i + 1) == 3, Timeout, () => service.StandardErrorTail());
                await job.ProduceAsync((i + 1) * Part, Part);
                await job.CaughtUpAsync(service, (i + 2) * Part);
            }

            await Job.StopAsync(service);
            var changed = Changes(service.StandardError);
            Assert.Equal(9, changed.Count);
            await job.AssertAlertsAsync(RuleAt(changed));
        }
    }

    [Fact]
    public async Task A_threshold_lowered_with_a_kill_9_before_any_checkpoint_records_it_still_gives_exactly_the_reference_alerts()
    {
        await using var job = await Job.StartAsync("rules_kill");
        await job.ProduceAsync(0, Part);
        await using (var service = job.StartService())
        {
            await job.CaughtUpAsync(service, Part);

            // From now on no checkpoint can commit: the change is read, adopted at a cut and applied,
            // its alerts held, and the node is killed before any checkpoint records it.
            await job.RefuseJournalWritesAsync(true);
            await job.SetRuleAsync("""{"rule":"sliding-velocity","enabled":true,"params":{"threshold":2}}""");
            await job.ProduceAsync(Part, Part);
            await Eventually.TrueAsync(() => TookEffect().IsMatch(service.StandardError) && service.StandardError.Contains("failed: ", StringComparison.Ordinal), Timeout, () => service.StandardErrorTail());
            await service.KillHardAsync();
            Assert.Equal(0, Recorded(service.StandardError, version: 1));
        }

        await job.RefuseJournalWritesAsync(false);
        await using (var service = job.StartService())
        {
            // The restart cannot know how far the killed node applied the old threshold with its
            // alerts written: the change takes effect from the partitions' ends at restart.
            await Eventually.TrueAsync(() => service.StandardError.Contains("Partitions assigned", StringComparison.Ordinal), Timeout, () => service.StandardErrorTail());
            var third = await job.ProduceAsync(2 * Part, Part);
            await job.CaughtUpAsync(service, 3 * Part);
            await Job.StopAsync(service);
            var changed = Changes(service.StandardError);
            Assert.Equal(
                third.GroupBy(p => p.Partition.Value).Select(g => (g.Key, g.Min(p => p.Offset.Value))).Order(),
                changed.Select(c => (c.Partition, c.Offset)).Order());
            await job.AssertAlertsAsync(RuleAt(changed));
        }
    }

    /// <summary>How many partitions logged a commit recording the rules in force from an offset, with sliding-velocity at <paramref name="version"/>.</summary>
    private static int Recorded(string log, int version)
    {
        var recorded = RecordedLine().Matches(log)
            .Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))
            .ToHashSet();
        return Changes(log).Where(c => c.Version == version && recorded.Contains((c.Partition, c.Offset))).Select(c => c.Partition).Distinct().Count();
    }

    /// <summary>Every change of sliding-velocity a partition logged, in order: where it took effect and what it was.</summary>
    private static List<(int Partition, long Offset, bool Enabled, int Threshold, long Version)> Changes(string log) =>
        [.. TookEffect().Matches(log).Select(m => (
            int.Parse(m.Groups["p"].Value, CultureInfo.InvariantCulture),
            long.Parse(m.Groups["o"].Value, CultureInfo.InvariantCulture),
            m.Groups["on"].Value == "on",
            int.Parse(m.Groups["t"].Value, CultureInfo.InvariantCulture),
            long.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture)))];

    /// <summary>The settings in force at a record: the last change of its partition at or before its offset, else the configuration's.</summary>
    private static Func<int, long, (bool, int, long)> RuleAt(List<(int Partition, long Offset, bool Enabled, int Threshold, long Version)> changes) =>
        (partition, offset) => changes.LastOrDefault(c => c.Partition == partition && c.Offset <= offset) is { Version: > 0 } c ? (c.Enabled, c.Threshold, c.Version) : (true, 5, 0);

    [GeneratedRegex(@"Partition (?<p>\d+): rules (changed since its last checkpoint )?take effect from offset (?<o>\d+): [^\n]*?sliding-velocity (?<on>on|off) v(?<v>\d+) \(threshold=(?<t>\d+), window=60s\)")]
    private static partial Regex TookEffect();

    [GeneratedRegex(@"Partition (\d+): rules in force from offset (\d+) recorded by checkpoint \d+")]
    private static partial Regex RecordedLine();

    /// <summary>A dev broker, a database, and a stream of bursts: every user makes 8 transactions a second apart, then is quiet for 5 minutes.</summary>
    private sealed class Job : IAsyncDisposable
    {
        private const string Group = "rules-test";
        private readonly FraudProcess _broker;
        private readonly string _database;

        private Job(FraudProcess broker, string bootstrap, string database)
        {
            _broker = broker;
            Bootstrap = bootstrap;
            _database = database;
        }

        public string Bootstrap { get; }

        public static async Task<Job> StartAsync(string name)
        {
            var database = await TestPostgres.CreateDatabaseAsync(name);
            var broker = FraudProcess.Start("broker");
            var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
            return new Job(broker, bootstrap, database);
        }

        public FraudProcess StartService() => FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = _database },
            "run", "--bootstrap", Bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms", "--http", "127.0.0.1:0");

        /// <summary>Transactions <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> - 1 of the stream, in order.</summary>
        public Task<List<Confluent.Kafka.TopicPartitionOffset>> ProduceAsync(int from, int count) =>
            KafkaTestTopics.ProduceAsync(Bootstrap, "transactions", Enumerable.Range(from, count).Select(i =>
            {
                var user = string.Create(CultureInfo.InvariantCulture, $"u{(i / 8) % 40}");
                var ts = TransactionJson.FormatTimestamp(T0.AddSeconds(i));
                return ((string?)user, string.Create(CultureInfo.InvariantCulture, $$"""{"user_id":"{{user}}","amount":{{10 + (i % 7)}}.5,"merchant":"shop","ts":"{{ts}}"}"""));
            }));

        public Task SetRuleAsync(string? value) => KafkaTestTopics.ProduceRecordAsync(Bootstrap, "rules", Rule, value);

        /// <summary>The node has read and checkpointed the first <paramref name="count"/> transactions.</summary>
        public Task CaughtUpAsync(FraudProcess service, int count) =>
            Eventually.TrueAsync(
                () => !service.HasExited && KafkaTestTopics.CommittedOffsets(Bootstrap, Group, "transactions", 3, TimeSpan.FromSeconds(10)).Sum(c => Math.Max(0, c.Value)) == count,
                Timeout,
                () => service.StandardErrorTail());

        public static async Task StopAsync(FraudProcess service)
        {
            service.Interrupt();
            Assert.Equal(0, await service.WaitForExitAsync(Timeout));
        }

        /// <summary>From now on (or no longer) every write to the journals fails, so no checkpoint commits.</summary>
        public async Task RefuseJournalWritesAsync(bool refuse)
        {
            await using var connection = new NpgsqlConnection(_database);
            await connection.OpenAsync();
            var sql = refuse
                ? """
                  CREATE OR REPLACE FUNCTION refuse_writes() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire (test)'; END $$ LANGUAGE plpgsql;
                  CREATE TRIGGER refuse_writes BEFORE INSERT ON event_journal FOR EACH ROW EXECUTE FUNCTION refuse_writes();
                  """
                : "DROP TRIGGER refuse_writes ON event_journal";
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>
        /// The alerts on the topic and in the table are the reference's for the settings
        /// <paramref name="ruleAt"/> gives each record, each once, with the version that raised it.
        /// </summary>
        public async Task AssertAlertsAsync(Func<int, long, (bool Enabled, int Threshold, long Version)> ruleAt)
        {
            var parser = new TransactionParser();
            var records = KafkaTestTopics.ReadAll(Bootstrap, "transactions", Timeout)
                .Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!))
                .ToList();
            var expected = AlertReference.SlidingVelocity(records, ruleAt);
            Assert.NotEmpty(expected);
            var onTopic = await Eventually.ValueAsync(
                () => Task.FromResult(KafkaTestTopics.ReadAll(Bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value)).ToList()),
                alerts => alerts.Count >= expected.Count,
                Timeout);
            Assert.Equal(onTopic.Count, onTopic.DistinctBy(a => a.AlertId).Count());
            Assert.Equal(
                expected.Select(e => $"{e.Id} v{e.Version}").Order(StringComparer.Ordinal),
                onTopic.Select(a => $"{a.AlertId} v{a.RuleVersion}").Order(StringComparer.Ordinal));
            var table = await TestPostgres.AlertRowsAsync(_database);
            Assert.Equal(expected.Select(e => e.Id).Order(StringComparer.Ordinal), table.Select(r => r.Id).Order(StringComparer.Ordinal));
        }

        public async ValueTask DisposeAsync() => await _broker.DisposeAsync();
    }
}
