using System.Diagnostics;
using Akka.Actor;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Rules;
using FraudActors.Actors.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using Npgsql;

namespace FraudActors.FraudService.Bench;

/// <summary>
/// Start-up with many users' state in the journals: the journals of three partitions filled
/// with <c>users</c> users, then a new actor system is started and timed until every partition
/// journal has recovered and until the first record is processed by a user that loads its
/// state. The in-process path: Kafka's connect and group join are not in it. Baseline: reading
/// the same journal rows with one plain SELECT.
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
        var nextOffsets = new long[Partitions];
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
                    var writes = batch.GroupBy(i => i % Partitions).Select(p =>
                    {
                        nextOffsets[p.Key] += p.Count();
                        var states = p.Select(i => BenchData.User(i, nextOffsets[p.Key] - 1)).ToList();
                        return journals.For(p.Key).Ask<CheckpointWritten>(new WriteCheckpoint(epoch, nextOffsets[p.Key], states), Timeout);
                    });
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

            var baseline = await SelectBaselineAsync(context, topic).ConfigureAwait(false);
            context.Figure(Name, "users", users);
            context.Figure(Name, "journal_recovery_ms", recovered);
            context.Figure(Name, "first_record_ms", first);
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
                ("users_per_s", users / (recovered / 1000)),
                ("baseline_select_ms", baseline is null ? "n/a" : baseline.Value),
                ("ratio", baseline is null ? "n/a" : recovered / baseline.Value));
        }
        finally
        {
            await restarted.Terminate().ConfigureAwait(false);
        }
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
