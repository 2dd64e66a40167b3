using System.CommandLine;
using FraudActors.Actors.Checkpoints;
using FraudActors.FraudService.Drill;

namespace FraudActors.FraudService.Cli;

/// <summary>
/// <c>fraud drill</c>: the recovery drill. A seeded stream flows while the service, a child
/// process on a PostgreSQL database, is killed with SIGKILL at random moments (while
/// processing, during a checkpoint, during alert publishing) and restarted; at the end the
/// alerts topic, the alerts table, the window result topics and table, and every user's
/// checkpointed transaction count are compared with an independent reference computed from the
/// input. A flush record to each partition, a day after the stream, closes every real window.
/// With <c>--nodes</c> above 1 the services are a cluster that loses, regains and gains nodes
/// meanwhile (<see cref="ClusterDrill"/>).
/// </summary>
public static class DrillCommand
{
    /// <summary>Partitions of a one-service drill: the service's default topic layout.</summary>
    private const int Partitions = 3;

    public static Command Create()
    {
        var command = new Command("drill", "Recovery drill: kill -9 the service at random moments while a seeded stream flows, then prove no alert and no window result is duplicated or missing.");
        var transactions = new Option<int>("--transactions") { Description = "transactions in the stream", DefaultValueFactory = _ => 100_000 };
        var kills = new Option<int>("--kills") { Description = "how many times the service is killed with SIGKILL (with --nodes above 1: how many cluster events, kill -9, leave and join by turns)", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "seed of the stream and of the kill moments", DefaultValueFactory = _ => 42 };
        var nodes = new Option<int>("--nodes") { Description = "service nodes forming one cluster on loopback (1 to 5; above 1 the topics have 6 partitions)", DefaultValueFactory = _ => 1 };
        var store = new Option<string>("--store") { Description = "postgres (the default: a throwaway server of its own unless --connection names an empty database) or sqlite (a new temporary file)", DefaultValueFactory = _ => JournalStore.Postgres };
        var connection = new Option<string?>("--connection") { Description = "an empty PostgreSQL database to use instead of a server of the drill's own" };
        transactions.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1000 or > 300_000)
            {
                r.AddError("--transactions must be between 1000 and 300000 (the dev broker keeps ~5 MiB per partition)");
            }
        });
        kills.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 100)
            {
                r.AddError("--kills must be between 0 and 100");
            }
        });
        nodes.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > ClusterDrill.MaxNodes)
            {
                r.AddError($"--nodes must be between 1 and {ClusterDrill.MaxNodes}");
            }
        });
        store.AcceptOnlyFromAmong(JournalStore.Sqlite, JournalStore.Postgres);
        foreach (var option in new Option[] { transactions, kills, seed, nodes, store, connection })
        {
            command.Options.Add(option);
        }

        // Several processes writing one SQLite file is no cluster anyone deploys, and its locks
        // would fail the drill for a reason that is not the service's.
        command.Validators.Add(r =>
        {
            if (r.GetValue(nodes) > 1 && r.GetValue(store) == JournalStore.Sqlite)
            {
                r.AddError("--store sqlite runs one node only: --nodes above 1 needs --store postgres");
            }
        });

        command.SetAction((parse, _) => Guarded.RunAsync(stop => RunAsync(
            parse.GetValue(transactions),
            parse.GetValue(kills),
            parse.GetValue(seed),
            parse.GetValue(nodes),
            LocalPostgres.ChooseStore(parse.GetValue(store)!, parse.GetResult(store) is { Implicit: false }, parse.GetValue(connection), line => Console.WriteLine("drill: " + line)),
            parse.GetValue(connection),
            stop)));
        return command;
    }

    private static async Task<int> RunAsync(int count, int kills, int seed, int nodes, string store, string? connection, CancellationToken stop)
    {
        using var postgres = store == JournalStore.Postgres && string.IsNullOrWhiteSpace(connection) ? LocalPostgres.Start() : null;
        var database = store == JournalStore.Sqlite ? Path.Combine(Path.GetTempPath(), $"fraud-drill-{Environment.ProcessId}.db") : null;
        connection = postgres?.ConnectionString ?? (database is null ? connection! : $"Data Source={database}");
        try
        {
            return await ConsoleProgress.RunAsync("drill", async progress =>
            {
                using var drill = RecoveryDrill.Start(count, seed, nodes == 1 ? Partitions : ClusterDrill.Partitions, store, connection, postgres is not null, progress);
                return nodes == 1
                    ? await DrillAsync(drill, kills, progress, stop).ConfigureAwait(false)
                    : await new ClusterDrill(drill, nodes, kills, progress).RunAsync(stop).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        finally
        {
            if (database is not null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                File.Delete(database);
            }
        }
    }

    private static async Task<int> DrillAsync(RecoveryDrill drill, int kills, ConsoleProgress progress, CancellationToken stop)
    {
        // The stream flows while the service is killed: paced so that it spans the kills (each
        // restart waits about a session timeout to get its partitions back), so every kill lands
        // in a service that is busy reading, checkpointing and publishing.
        var count = drill.Count;
        drill.Produce(count / Math.Max(30.0, kills * 12.0), stop);
        var random = new Random(drill.Seed);
        var moments = Enumerable.Range(0, kills).Select(_ => random.NextDouble() * 0.95).Order().ToList();
        var resumed = new List<string>();
        for (var i = 0; i < moments.Count; i++)
        {
            using var service = ServiceProcess.Start(drill.Environment, [.. drill.Run]);
            var target = (long)(moments[i] * count);
            progress.Report($"kill {i + 1}/{moments.Count}: running to {target}/{count}", (double)drill.Committed() / count);
            await RecoveryDrill.WaitAsync(() => drill.Committed() >= target || service.HasExited, stop).ConfigureAwait(false);
            var landed = await KillMoments.AwaitAsync(service, KillMoments.For(i), stop).ConfigureAwait(false);
            if (service.HasExited)
            {
                throw new InvalidOperationException("the service exited by itself:\n" + string.Join('\n', service.StandardError.TakeLast(20)));
            }

            service.KillHard();
            var from = Resumed(service).ToList();
            resumed.AddRange(from.Select(l => $"run {i + 1}: {l}"));
            progress.Say($"kill {i + 1}/{moments.Count}: SIGKILL {landed}, {drill.Committed()}/{count} committed");
        }

        progress.Report("final run: catching up", (double)drill.Committed() / count);
        var stream = await drill.EndStreamAsync(stop).ConfigureAwait(false);
        using (var last = ServiceProcess.Start(drill.Environment, [.. drill.Run]))
        {
            await RecoveryDrill.WaitAsync(
                () =>
                {
                    var committed = drill.Committed();
                    progress.Report("final run: catching up", (double)committed / stream.Records.Count);
                    return last.StandardError.Any(l => l.Contains("Partitions assigned", StringComparison.Ordinal)) && committed >= stream.Records.Count;
                },
                stop).ConfigureAwait(false);
            await drill.WaitForWindowResultsAsync(stream, "final run", stop).ConfigureAwait(false);
            progress.Report("final run: stopping with a final checkpoint", 1);
            var exit = await last.InterruptAsync(RecoveryDrill.Timeout).ConfigureAwait(false);
            resumed.AddRange(Resumed(last).Select(l => $"final run: {l}"));
            progress.Say($"final run caught up and stopped with exit code {exit}");
        }

        progress.Say("where each restart resumed:");
        foreach (var line in resumed)
        {
            progress.Say("  " + line);
        }

        var (failed, agreed) = await drill.CompareAsync(stream, stop).ConfigureAwait(false);
        Console.WriteLine(failed ? "DRILL FAILED" : $"DRILL PASSED: {kills} kills, {agreed}");
        return failed ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static IEnumerable<string> Resumed(ServiceProcess service) =>
        service.StandardError.Where(l => l.Contains("resuming at offset", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("Partition ", StringComparison.Ordinal) is var at and >= 0 ? at : 0)..]);
}
