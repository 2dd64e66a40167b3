using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rescaling;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Rescaling;

/// <summary>
/// The rescaling runbook (README, "Rescaling") for real: <c>fraud run</c> on PostgreSQL reads
/// the first half of a stream from 3 partitions and is stopped with a final checkpoint; the topic
/// grows to 6 partitions; <c>fraud rescale</c> moves the users' states; the second half, produced
/// by our producer over 6 partitions, is read by <c>fraud run</c> again. The alerts are exactly
/// the reference's, computed from where each record landed, and every user's count is the input's.
/// </summary>
/// <remarks>
/// The dev broker (librdkafka's mock cluster) does not answer CreatePartitions, so the topic is
/// grown by <see cref="DevBrokerTopics.GrowAsync"/>: deleted and created again with 6 partitions,
/// its records produced again to their partitions at their offsets (checked), as Kafka leaves a
/// topic whose partitions were added.
/// </remarks>
public sealed class RescaleProcessTests
{
    private const int Seed = 23;
    private const int Count = 8000;
    private const int Users = 1500;

    /// <summary>Users that burst across the cut and move to a new partition: only their state before it makes their alerts after it.</summary>
    private const int Movers = 3;
    private const string Group = "rescale-test";
    private const string Topic = "transactions";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Rescale_from_3_to_6_partitions_with_half_the_stream_before_and_half_after_gives_exactly_the_reference_alerts()
    {
        var database = await TestPostgres.CreateDatabaseAsync("rescale");
        using var broker = KafkaTestTopics.StartBroker((Topic, 3));
        var bootstrap = broker.BootstrapServers;
        var (firstHalf, secondHalf) = Stream();
        var half = firstHalf.Count;
        var total = half + secondHalf.Count;
        string[] rescale = ["rescale", "--to-partitions", "6", "--partitioner", "crc32", "--store", "postgres", "--connection", database, "--group", Group, "--bootstrap", bootstrap];

        // Before: 3 partitions, read to the end, then a stop with a final checkpoint.
        await TransactionProducer.RunAsync(bootstrap, Topic, firstHalf.Select(TransactionGenerator.ToRecord), 40, maxSpeed: true, progress: null, CancellationToken.None);
        await using (var before = StartService(bootstrap, database))
        {
            await Eventually.TrueAsync(() => Committed(bootstrap, 3) == half || before.HasExited, Timeout, () => before.StandardErrorTail());
            Assert.False(before.HasExited, before.StandardErrorTail());

            // A rescale while a node of the job runs is refused, and changes nothing.
            var (refused, whileRunning) = await FraudProcess.RunAsync(Timeout, rescale);
            Assert.True(refused == 2, whileRunning.StandardErrorTail());
            Assert.Contains("is running", whileRunning.StandardError, StringComparison.Ordinal);

            before.Interrupt();
            Assert.Equal(0, await before.WaitForExitAsync(Timeout));
        }

        // A rescale before the topic grew is refused: the producers place keys by the topic's count.
        var (early, notGrown) = await FraudProcess.RunAsync(Timeout, rescale);
        Assert.True(early == 2, notGrown.StandardErrorTail());
        Assert.Contains("has 3 partitions", notGrown.StandardError, StringComparison.Ordinal);

        await DevBrokerTopics.GrowAsync(broker, Topic, 6, Timeout);
        var (exit, rescaled) = await FraudProcess.RunAsync(Timeout, rescale);
        Assert.True(exit == 0, rescaled.StandardErrorTail());
        var summary = rescaled.StandardOutput.Single(l => l.StartsWith("users: ", StringComparison.Ordinal));
        Assert.DoesNotContain("moved: 0", summary, StringComparison.Ordinal);

        // Again with the same count: nothing moves, nothing is written.
        var (again, rerun) = await FraudProcess.RunAsync(Timeout, rescale);
        Assert.True(again == 0, rerun.StandardErrorTail());
        Assert.Contains(rerun.StandardOutput, l => l.StartsWith("users: ", StringComparison.Ordinal) && l.Contains("moved: 0", StringComparison.Ordinal));
        Assert.Contains("nothing to write: the journals already hold this rescale", rerun.StandardOutput);

        await AssertJournalsPlacedAsync(database, half);

        // After: the second half over 6 partitions, read by the job on the rescaled journals.
        await TransactionProducer.RunAsync(bootstrap, Topic, secondHalf.Select(TransactionGenerator.ToRecord), 40, maxSpeed: true, progress: null, CancellationToken.None);
        await using (var after = StartService(bootstrap, database))
        {
            await Eventually.TrueAsync(() => Committed(bootstrap, 6) == total || after.HasExited, Timeout, () => after.StandardErrorTail());
            Assert.False(after.HasExited, after.StandardErrorTail());
            after.Interrupt();
            Assert.Equal(0, await after.WaitForExitAsync(Timeout));
        }

        var parser = new TransactionParser();
        var records = KafkaTestTopics.ReadAll(bootstrap, Topic, Timeout)
            .Select(r => (Partition: r.Partition.Value, Offset: r.Offset.Value, Transaction: parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!))
            .ToList();
        Assert.Equal(total, records.Count);
        var expected = AlertReference.SlidingVelocityIds(records);

        // The test can fail: some alerts of the new partitions need the state their users had before the rescale.
        var newPartitions = records.Where(r => r.Partition >= 3).ToList();
        Assert.Contains(expected.Where(id => int.Parse(id.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture) >= 3), id => !AlertReference.SlidingVelocityIds(newPartitions).Contains(id));

        var onTopic = KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        var table = await TestPostgres.AlertRowsAsync(database);
        var (duplicates, missing, extra) = AlertReference.Compare(expected, onTopic);
        Assert.True(duplicates.Count + missing.Count + extra.Count == 0, $"on the topic: duplicates {string.Join(",", duplicates)}; missing {string.Join(",", missing)}; extra {string.Join(",", extra)}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), table.Select(r => r.Id).Order(StringComparer.Ordinal));

        var counts = CountReference.Expected(records.Select(r => r.Transaction));
        var state = await JournalReader.ReadUsersAsync("postgres", database, Topic, 6, Timeout);
        Assert.Empty(CountReference.Differences(counts, state));
    }

    [Fact]
    public async Task Rescale_help_names_its_options_and_bad_arguments_exit_2()
    {
        var (help, helped) = await FraudProcess.RunAsync(Timeout, "rescale", "--help");
        Assert.Equal(0, help);
        foreach (var option in new[] { "--to-partitions", "--partitioner", "--store", "--connection", "--dry-run" })
        {
            Assert.Contains(helped.StandardOutput, l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
        }

        var (missing, _) = await FraudProcess.RunAsync(Timeout, "rescale", "--to-partitions", "6");
        Assert.Equal(2, missing);
        var (unknown, _) = await FraudProcess.RunAsync(Timeout, "rescale", "--to-partitions", "6", "--partitioner", "fnv1a");
        Assert.Equal(2, unknown);
        var (memory, inMemory) = await FraudProcess.RunAsync(Timeout, "rescale", "--to-partitions", "6", "--partitioner", "murmur2", "--store", "memory");
        Assert.Equal(2, memory);
        Assert.Contains("--store", inMemory.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// The lab's stream cut in two, with <see cref="Movers"/> users of a new partition bursting
    /// across the cut: four transactions at the end of the first half, four at the start of the
    /// second, within a second, so that their sixth to eighth raise alerts only if their first
    /// four moved with them.
    /// </summary>
    private static (List<Transaction> First, List<Transaction> Second) Stream()
    {
        var generated = new TransactionGenerator(new GeneratorOptions(Seed, Users, Rate: 40, ProduceCommand.SeededStart, Count)).Generate().ToList();
        var half = Count / 2;
        var movers = Enumerable.Range(0, 100).Select(i => $"mover-{i}").Where(u => ProducerPartitioner.Crc32.PartitionOf(u, 6) >= 3).Take(Movers).ToList();
        List<Transaction> Burst(IEnumerable<Transaction> around, string side) =>
            [.. movers.SelectMany(m => around.Select((tx, i) => tx with { UserId = m, TxId = $"{m}-{side}-{i}" }))];
        return (
            [.. generated.Take(half), .. Burst(generated.Skip(half - 4).Take(4), "before")],
            [.. Burst(generated.Skip(half).Take(4), "after"), .. generated.Skip(half)]);
    }

    /// <summary>Every user in the journal of its crc32 partition among 6; old partitions at their offsets, new ones at 0.</summary>
    private static async Task AssertJournalsPlacedAsync(string database, int records)
    {
        var system = RescaleJournals.CreateSystem("postgres", database);
        try
        {
            await using var journals = new RescaleJournals(system, Topic, Timeout);
            var contents = await journals.ReadAsync(6);
            Assert.All(contents, j => Assert.All(j.Users, u => Assert.Equal(j.Partition, ProducerPartitioner.Crc32.PartitionOf(u.UserId, 6))));
            Assert.All(contents.Skip(3), j => Assert.Equal(0L, j.NextOffset));
            Assert.Equal(records, contents.Take(3).Sum(j => j.NextOffset));
            Assert.All(contents.Skip(3), j => Assert.NotEmpty(j.Users));
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static FraudProcess StartService(string bootstrap, string database) => FraudProcess.Start(
        new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = database },
        "run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "300ms");

    private static long Committed(string bootstrap, int partitions) =>
        KafkaTestTopics.CommittedOffsets(bootstrap, Group, Topic, partitions, TimeSpan.FromSeconds(10)).Sum(c => Math.Max(0, c.Value));
}
