using System.Diagnostics;
using Akka.Actor;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Rules;
using FraudActors.Actors.Users;
using FraudActors.FraudService.Configuration;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;
using Npgsql;

namespace FraudActors.FraudService.Bench;

/// <summary>
/// Start-up with many users' state in the journals: the journals of three partitions filled
/// with <c>users</c> users, then a new actor system is started and timed until every partition
/// journal has recovered and until the first record is processed by a user that loads its
/// state (the in-process path, without Kafka), and then the whole way: a <c>fraud run</c>
/// process started against the dev broker, timed from its start to its log line "First record
/// processed". Baseline: reading the same journal rows with one plain SELECT.
/// </summary>
public sealed class RecoveryScenario(int users) : IBenchScenario
{
    private const int Partitions = 3;
    private const int UsersPerCheckpoint = 50_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public string Name => "recovery";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        var topic = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var fill = await BenchData.TimeAsync(async () =>
        {
            var system = BenchData.StartSystem(context, "bench-fill");
            try
            {
                var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());
                var epoch = 0L;
                foreach (var batch in Enumerable.Range(0, users).Chunk(UsersPerCheckpoint))
                {
                    stop.ThrowIfCancellationRequested();
                    epoch++;
                    // Users with state but no offset of their own yet, committed at offset 0: a topic
                    // of the dev broker can then hold the first record after the checkpoint.
                    var writes = batch.GroupBy(i => i % Partitions).Select(p =>
                        journals.For(p.Key).Ask<CheckpointWritten>(new WriteCheckpoint(epoch, 0, [.. p.Select(i => BenchData.User(i, -1))]), Timeout));
                    await Task.WhenAll(writes).ConfigureAwait(false);
                }
            }
            finally
            {
                await system.Terminate().ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        context.Say($"recovery: {users} users written to the journals of {Partitions} partitions in {fill / 1000:0.0} s");

        // The measured start: a new actor system, as a restarted node has.
        var clock = Stopwatch.StartNew();
        var restarted = BenchData.StartSystem(context, "bench-recover");
        try
        {
            var journals = new PartitionJournals(restarted, topic, new PartitionJournalSettings());
            var checkpoints = await Task.WhenAll(Enumerable.Range(0, Partitions).Select(p =>
                journals.For(p).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout))).ConfigureAwait(false);
            var recovered = clock.Elapsed.TotalMilliseconds;

            // The first record after the checkpoint: its user starts, loads its state, applies it.
            var user = BenchData.UserId(0);
            var actor = restarted.ActorOf(UserActor.PropsFor(user, RuleSettings.Default, TimeProvider.System, journals));
            var applied = await actor.Ask<TransactionApplied>(new ApplyTransaction(0, checkpoints[0].NextOffset!.Value, BenchData.Transaction(user, 60)), Timeout).ConfigureAwait(false);
            var first = clock.Elapsed.TotalMilliseconds;
            if (applied.Duplicate || checkpoints.Sum(c => c.Users) != users)
            {
                throw new InvalidOperationException($"recovery bench: {checkpoints.Sum(c => c.Users)} users recovered of {users}, first record duplicate={applied.Duplicate}");
            }

            await restarted.Terminate().ConfigureAwait(false);
            var process = await ProcessFirstRecordAsync(context, topic, stop).ConfigureAwait(false);
            var baseline = await SelectBaselineAsync(context, topic).ConfigureAwait(false);
            context.Figure(Name, "users", users);
            context.Figure(Name, "journal_recovery_ms", recovered);
            context.Figure(Name, "first_record_ms", first);
            context.Figure(Name, "process_first_record_ms", process);
            context.Figure(Name, "users_per_s", users / (recovered / 1000));
            if (baseline is { } select)
            {
                context.Figure(Name, "baseline_select_ms", select);
                context.Figure(Name, "ratio", recovered / select);
            }

            context.Line(
                Name,
                ("users", users),
                ("journal_recovery_ms", recovered),
                ("first_record_ms", first),
                ("process_first_record_ms", process),
                ("users_per_s", users / (recovered / 1000)),
                ("baseline_select_ms", baseline is null ? "n/a" : baseline.Value),
                ("ratio", baseline is null ? "n/a" : recovered / baseline.Value));
        }
        finally
        {
            await restarted.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A <c>fraud run</c> process on the filled journals, reading the journals' topic from a dev
    /// broker that holds one record: milliseconds from starting the process to that record processed.
    /// </summary>
    private static async Task<double> ProcessFirstRecordAsync(BenchContext context, string topic, CancellationToken stop)
    {
        var topics = new TopicNames(topic, "alerts", "transactions.dlq");
        using var broker = Cli.BrokerCommand.Start(topics, Partitions);
        await Producing.TransactionProducer.RunAsync(
            broker.BootstrapServers,
            topic,
            [(BenchData.UserId(0), TransactionJson.Serialize(BenchData.Transaction(BenchData.UserId(0), 60)))],
            rate: 1,
            maxSpeed: true,
            progress: null,
            stop).ConfigureAwait(false);
        var environment = new Dictionary<string, string>
        {
            ["FRAUD_BOOTSTRAP"] = broker.BootstrapServers,
            ["FRAUD_TOPIC"] = topic,
            ["FRAUD_GROUP"] = "bench-" + topic,
            ["FRAUD_STORE"] = context.Store,
            ["FRAUD_CONNECTION"] = context.Connection,
        };
        var clock = Stopwatch.StartNew();
        using var service = Drill.ServiceProcess.Start(environment, "run");
        while (!service.StandardError.Any(l => l.Contains("First record processed", StringComparison.Ordinal)))
        {
            if (service.HasExited || clock.Elapsed > Timeout)
            {
                throw new InvalidOperationException("recovery bench: the service did not process its first record:\n" + string.Join('\n', service.StandardError.TakeLast(20)));
            }

            await Task.Delay(5, stop).ConfigureAwait(false);
        }

        var elapsed = clock.Elapsed.TotalMilliseconds;
        await service.InterruptAsync(Timeout).ConfigureAwait(false);
        return elapsed;
    }

    /// <summary>The floor under recovery: the journals' rows read with one SELECT, bytes only. Null on SQLite.</summary>
    private static async Task<double?> SelectBaselineAsync(BenchContext context, string topic)
    {
        if (context.Store != JournalStore.Postgres)
        {
            return null;
        }

        await using var connection = new NpgsqlConnection(context.Connection);
        await connection.OpenAsync().ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await using var command = new NpgsqlCommand("SELECT payload FROM event_journal WHERE persistence_id = ANY(@ids) AND NOT is_deleted ORDER BY persistence_id, sequence_nr", connection);
        command.Parameters.AddWithValue("ids", Enumerable.Range(0, Partitions).Select(p => PartitionJournal.PersistenceIdFor(topic, p)).ToArray());
        var bytes = 0L;
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                bytes += ((byte[])reader[0]).Length;
            }
        }

        return bytes > 0 ? clock.Elapsed.TotalMilliseconds : null;
    }
}
