using FraudActors.Engine.Alerts;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;
using Microsoft.Data.Sqlite;

namespace FraudActors.EndToEnd.Tests.Storage;

/// <summary>
/// <c>fraud run</c> without store options keeps its state in SQLite at <c>fraud-state.db</c> in its
/// working directory: killed with SIGKILL while it works and started again in the same
/// directory, it ends with exactly the reference alerts, none twice, and every user's
/// checkpointed count as the input's. <c>--store memory</c> says at start that a crash loses state.
/// </summary>
public sealed class DefaultStoreTests : IDisposable
{
    private const int Seed = 9;
    private const int Count = 12_000;
    private const string Group = "default-store-test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    private readonly DirectoryInfo _workingDirectory = Directory.CreateTempSubdirectory("fraud-default-store-");

    [Fact]
    public async Task Without_store_options_the_state_in_fraud_state_db_survives_kill_9_with_every_alert_once()
    {
        await using var broker = FraudProcess.Start("broker");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var (produced, producer) = await FraudProcess.RunAsync(
            Timeout, "produce", "--bootstrap", bootstrap, "--seed", $"{Seed}", "--count", $"{Count}", "--users", "2000", "--rate", "40", "--max-speed");
        Assert.True(produced == 0, producer.StandardError);
        var transactions = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout);
        var file = Path.Combine(_workingDirectory.FullName, "fraud-state.db");

        var resumedFrom = new List<string>();
        foreach (var fraction in new[] { 0.2, 0.55 })
        {
            await using var service = StartService(bootstrap);

            // Killed once its checkpoints committed past this share of the stream: mid-stream,
            // with records applied beyond its last commit.
            await Eventually.TrueAsync(() => Committed(bootstrap) >= fraction * Count || service.HasExited, Timeout, () => service.StandardErrorTail());
            Assert.False(service.HasExited, service.StandardErrorTail());
            Assert.True(File.Exists(file), $"no {file}:\n{service.StandardErrorTail()}");
            Assert.DoesNotContain(RunCommand.MemoryStoreWarning, service.StandardError, StringComparison.Ordinal);
            await service.KillHardAsync();
            resumedFrom.AddRange(service.StandardError.Split('\n').Where(l => l.Contains("resuming at offset", StringComparison.Ordinal)));
        }

        await using (var final = StartService(bootstrap))
        {
            await Eventually.TrueAsync(() => final.StandardError.Contains("Partitions assigned", StringComparison.Ordinal), Timeout, () => final.StandardErrorTail());
            await Eventually.TrueAsync(() => Committed(bootstrap) == transactions.Count, Timeout, () => final.StandardErrorTail());
            final.Interrupt();
            Assert.Equal(0, await final.WaitForExitAsync(Timeout));
            resumedFrom.AddRange(final.StandardError.Split('\n').Where(l => l.Contains("resuming at offset", StringComparison.Ordinal)));
            Assert.DoesNotContain("database is locked", final.StandardError, StringComparison.Ordinal);
        }

        // The restarts resumed from the journals in the file, not from the group's offsets alone.
        Assert.Contains(resumedFrom, l => !l.Contains("(group offset)", StringComparison.Ordinal));

        var parser = new TransactionParser();
        var records = transactions.Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value).Transaction!)).ToList();
        var expected = AlertReference.SlidingVelocityIds(records);
        Assert.NotEmpty(expected);
        var onTopic = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        Assert.Equal(onTopic.Count, onTopic.Distinct().Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), onTopic.Order(StringComparer.Ordinal));

        var connection = $"Data Source={file}";
        var table = SqlOutboxTable<Alert>.Sqlite(connection, AlertCodec.For("alerts"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), (await table.IdsAsync(CancellationToken.None)).Order(StringComparer.Ordinal));
        Assert.Equal((expected.Count, (long)expected.Count), await table.CountAsync(CancellationToken.None));

        var counts = CountReference.Expected(records.Select(r => r.Item3));
        var state = await JournalReader.ReadUsersAsync(JournalStore.Sqlite, connection, "transactions", 3, Timeout);
        Assert.Empty(CountReference.Differences(counts, state));
    }

    [Fact]
    public async Task The_memory_store_says_at_start_that_a_crash_loses_state_and_writes_no_file()
    {
        await using var service = FraudProcess.StartIn(_workingDirectory.FullName, new Dictionary<string, string>(), "run", "--bootstrap", "127.0.0.1:1", "--store", "memory");

        await Eventually.TrueAsync(() => service.StandardError.Contains(RunCommand.MemoryStoreWarning, StringComparison.Ordinal) || service.HasExited, Timeout, () => service.StandardErrorTail());
        Assert.Contains("a crash or kill loses them", service.StandardError, StringComparison.Ordinal);
        Assert.Empty(_workingDirectory.GetFiles());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _workingDirectory.Delete(recursive: true);
    }

    private FraudProcess StartService(string bootstrap) => FraudProcess.StartIn(
        _workingDirectory.FullName,
        new Dictionary<string, string> { ["FRAUD_GROUP"] = Group },
        "run", "--bootstrap", bootstrap, "--checkpoint-interval", "300ms");

    private static long Committed(string bootstrap) =>
        KafkaTestTopics.CommittedOffsets(bootstrap, Group, "transactions", 3, TimeSpan.FromSeconds(10)).Sum(c => Math.Max(0, c.Value));
}
