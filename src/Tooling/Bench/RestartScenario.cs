using System.Text;
using Confluent.Kafka;
using FraudActors.Service.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// What a failure that needs a rewind costs: a node (as <c>fraud run</c> starts it) reads a paced
/// stream; its journal table is made to refuse writes until a checkpoint fails, then takes writes
/// again; the figure is the time from the failure to the next record the node processes. The
/// rewind seeks the node's partitions back to their last commits without leaving the consumer
/// group, so the figure should be the restart back-off (its baseline, printed beside it) plus a
/// few seconds for the journals to rewind and the users to reload. Rounds are spaced so that
/// each meets the back-off at its minimum.
/// </summary>
public sealed class RestartScenario(int rounds) : IBenchScenario
{
    private const int Partitions = 3;
    private const int RecordsPerSecond = 500;
    private const string CheckpointInterval = "1s";

    /// <summary>A run this long resets the back-off to its minimum (twice its 10 s maximum).</summary>
    private static readonly TimeSpan HealthyRun = TimeSpan.FromSeconds(21);

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public string Name => "restart";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        var topic = "restart-" + Guid.NewGuid().ToString("N")[..8];
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), Partitions);
        using var pacing = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var producing = Task.Run(() => ProduceAsync(broker.BootstrapServers, topic, pacing.Token), stop);
        try
        {
            await using var node = await BenchNode.StartAsync(context, broker.BootstrapServers, topic, CheckpointInterval, stop).ConfigureAwait(false);
            var metrics = node.Node.Metrics;
            await BenchNode.WaitAsync(() => node.Node.Checkpoints.Completed > 0, Timeout, () => "no checkpoint completed", stop).ConfigureAwait(false);
            context.Say($"restart: a node on {context.Store} reading {RecordsPerSecond} records/s on {Partitions} partitions; {rounds} failed checkpoint(s), {HealthyRun.TotalSeconds:0} s of healthy running apart");

            var costs = new List<(double Restart, double Backoff)>();
            for (var round = 0; round < rounds; round++)
            {
                if (round > 0)
                {
                    // The back-off starts at its minimum, and is back there after a healthy run.
                    await Task.Delay(HealthyRun, stop).ConfigureAwait(false);
                }

                var restarts = metrics.Restarts;
                var injected = DateTimeOffset.UtcNow;
                await RefuseWritesAsync(context.Store, node.Connection, refuse: true, stop).ConfigureAwait(false);
                try
                {
                    await BenchNode.WaitAsync(() => metrics.Restarts > restarts, Timeout, () => "no checkpoint failed", stop).ConfigureAwait(false);
                }
                finally
                {
                    await RefuseWritesAsync(context.Store, node.Connection, refuse: false, stop).ConfigureAwait(false);
                }

                // From the failed checkpoint's end (the fault itself), not from when the stream
                // reported it; a rewind that fails again counts in the figure.
                var failed = node.Node.Checkpoints.Snapshot()
                    .Where(c => c.Status == CheckpointStatus.Failed && c.Started >= injected)
                    .Select(c => c.Started + c.Duration)
                    .DefaultIfEmpty(metrics.LastFailure!.Value)
                    .Min();
                var backoff = metrics.LastRestartDelay;
                await BenchNode.WaitAsync(() => metrics.FirstRecordOfRun is { } first && first > failed, Timeout, () => "no record processed after the failure", stop).ConfigureAwait(false);
                var restart = (metrics.FirstRecordOfRun!.Value - failed).TotalMilliseconds;
                costs.Add((restart, backoff.TotalMilliseconds));
                context.Say(string.Create(CultureInfo.InvariantCulture, $"restart: round {round + 1}: next record {restart:0} ms after the failure (back-off {backoff.TotalMilliseconds:0} ms, {metrics.Restarts - restarts} restart(s))"));
            }

            var median = BenchData.Median(costs.Select(c => c.Restart));
            var baseline = BenchData.Median(costs.Select(c => c.Backoff));
            context.Figure(Name, "restart_ms", median);
            context.Figure(Name, "restart_max_ms", costs.Max(c => c.Restart));
            context.Figure(Name, "baseline_backoff_ms", baseline);
            context.Figure(Name, "beyond_backoff_ms", median - baseline);
            context.Figure(Name, "ratio", median / baseline);
            context.Line(
                Name,
                ("rounds", rounds),
                ("restart_ms", Math.Round(median)),
                ("restart_max_ms", Math.Round(costs.Max(c => c.Restart))),
                ("baseline_backoff_ms", Math.Round(baseline)),
                ("beyond_backoff_ms", Math.Round(median - baseline)),
                ("ratio", median / baseline));
        }
        finally
        {
            await pacing.CancelAsync().ConfigureAwait(false);
            await producing.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>A steady stream of distinct users' transactions until cancelled, so there is always a next record.</summary>
    private static async Task ProduceAsync(string bootstrap, string topic, CancellationToken stop)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var user = BenchData.UserId(i % 50_000);
            var value = TransactionJson.Serialize(BenchData.Transaction(user, i / RecordsPerSecond));
            producer.Produce(topic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(user), Value = value });
            var due = TimeSpan.FromSeconds((double)i / RecordsPerSecond) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(5));
    }

    /// <summary>The journal table refuses every insert (a real error from the real database), or takes them again.</summary>
    private static async Task RefuseWritesAsync(string store, string connection, bool refuse, CancellationToken stop)
    {
        if (store == JournalStore.Sqlite)
        {
            await using var sqlite = new SqliteConnection(connection);
            await sqlite.OpenAsync(stop).ConfigureAwait(false);
            await using var command = sqlite.CreateCommand();
            command.CommandText = refuse
                ? "CREATE TRIGGER bench_refuse_writes BEFORE INSERT ON event_journal BEGIN SELECT RAISE(ABORT, 'refused by the restart bench'); END;"
                : "DROP TRIGGER bench_refuse_writes;";
            await command.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
            return;
        }

        await using var postgres = new NpgsqlConnection(connection);
        await postgres.OpenAsync(stop).ConfigureAwait(false);
        await using var sql = new NpgsqlCommand(
            refuse
                ? """
                  CREATE OR REPLACE FUNCTION bench_refuse_writes() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the restart bench'; END $$ LANGUAGE plpgsql;
                  CREATE TRIGGER bench_refuse_writes BEFORE INSERT ON event_journal FOR EACH ROW EXECUTE FUNCTION bench_refuse_writes();
                  """
                : "DROP TRIGGER bench_refuse_writes ON event_journal",
            postgres);
        await sql.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
    }
}
