using System.CommandLine;
using FraudActors.Engine.Configuration;
using FraudActors.Service.Cli;
using FraudActors.Tooling.Drill;

namespace FraudActors.Tooling.Cli;

/// <summary>
/// <c>fraud drill</c>: the recovery drill. A seeded stream flows while the service, a child
/// process on a PostgreSQL database, is killed with SIGKILL at random moments (while
/// processing, during a checkpoint, during alert publishing) and restarted; at the end the
/// alerts topic, the alerts table, the window result topics and table, and every user's
/// checkpointed transaction count are compared with an independent reference computed from the
/// input. A flush record to each partition, a day after the stream, closes every real window.
/// With <c>--nodes</c> above 1 the services are a cluster that loses, regains and gains nodes,
/// and has nodes frozen past their downing, meanwhile (<see cref="ClusterDrill"/>). With
/// <c>--soak</c> nothing is killed: the nodes run under a sustained load while their memory, GC,
/// checkpoints and lag are sampled (<see cref="SoakDrill"/>).
/// </summary>
public static class DrillCommand
{
    /// <summary>Partitions of a one-service drill: the service's default topic layout.</summary>
    private const int Partitions = 3;

    public static Command Create()
    {
        var command = new Command("drill", "Recovery drill: kill -9 the service at random moments while a seeded stream flows, then prove no alert and no window result is duplicated or missing. With --soak: sustained load instead, proving memory, lag and checkpoint durations level off.");
        var transactions = new Option<int>("--transactions") { Description = "transactions in the stream", DefaultValueFactory = _ => 100_000 };
        var kills = new Option<int>("--kills", "--events") { Description = "how many times the service is killed with SIGKILL (with --nodes above 1: how many cluster events, kill -9, leave, join and freeze by turns)", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "seed of the stream and of the kill moments", DefaultValueFactory = _ => 42 };
        var nodes = new Option<int>("--nodes") { Description = "service nodes forming one cluster on loopback (1 to 5; above 1 the topics have 6 partitions)", DefaultValueFactory = _ => 1 };
        var store = new Option<string>("--store") { Description = "postgres (the default: a throwaway server of its own unless --connection names an empty database) or sqlite (a new temporary file)", DefaultValueFactory = _ => JournalStore.Postgres };
        var connection = new Option<string?>("--connection") { Description = "an empty PostgreSQL database to use instead of a server of the drill's own" };
        var soak = new Option<string?>("--soak") { Description = "a soak instead of kills: sustained load for this long (e.g. 10m), sampling memory, GC, checkpoint durations and lag; fails when one keeps growing" };
        var rate = new Option<double?>("--rate") { Description = "soak: records per second (default: --rate-share of the maximum measured at the start)" };
        var rateShare = new Option<double>("--rate-share") { Description = "soak: the share of the maximum rate, measured at the start, to run at", DefaultValueFactory = _ => 0.8 };
        var sampleEvery = new Option<string>("--sample-every") { Description = "soak: time between samples", DefaultValueFactory = _ => "10s" };
        var json = new Option<FileInfo?>("--json") { Description = "soak: write the samples and verdicts to this JSON file" };
        var hostileShare = new Option<double?>("--hostile-share")
        {
            Description = "mix malformed and abusive records into the stream, this share of all records (e.g. 0.1), as fraud produce --hostile-share does (without its 1 MiB records, more than the dev broker keeps); the references count the valid ones",
        };
        hostileShare.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is not (> 0 and < 1))
            {
                r.AddError("--hostile-share must be above 0 and below 1 (e.g. 0.1)");
            }
        });
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
        AddSoakValidators(soak, rate, rateShare, sampleEvery, json);
        foreach (var option in new Option[] { transactions, kills, seed, nodes, store, connection, soak, rate, rateShare, sampleEvery, json, hostileShare })
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

            var soaking = r.GetResult(soak) is not null;
            foreach (var (option, given) in new (Option Option, bool Given)[] { (transactions, r.GetResult(transactions) is { Implicit: false }), (kills, r.GetResult(kills) is { Implicit: false }), (hostileShare, r.GetResult(hostileShare) is not null) })
            {
                if (soaking && given)
                {
                    r.AddError($"{option.Name} is for the recovery drill: a soak (--soak) kills nothing and runs for a time");
                }
            }

            foreach (var (option, given) in new (Option Option, bool Given)[]
            {
                (rate, r.GetResult(rate) is not null),
                (rateShare, r.GetResult(rateShare) is { Implicit: false }),
                (sampleEvery, r.GetResult(sampleEvery) is { Implicit: false }),
                (json, r.GetResult(json) is not null),
            })
            {
                if (!soaking && given)
                {
                    r.AddError($"{option.Name} needs --soak");
                }
            }

            if (r.GetResult(rate) is not null && r.GetResult(rateShare) is { Implicit: false })
            {
                r.AddError("--rate and --rate-share exclude each other: give a rate, or a share of the maximum measured at the start");
            }

            if (soaking && Durations.TryParse(r.GetValue(soak), out var span) && Durations.TryParse(r.GetValue(sampleEvery), out var every) && every > TimeSpan.Zero
                && span < every * SoakSamples)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"--soak {r.GetValue(soak)} gives fewer than {SoakSamples} samples of --sample-every {r.GetValue(sampleEvery)}: the verdict needs them (a longer soak or a shorter interval)"));
            }
        });

        command.SetAction((parse, _) => Guarded.RunAsync(stop => parse.GetValue(soak) is { } duration
            ? SoakAsync(
                new SoakOptions(Parse(duration), parse.GetValue(rate), parse.GetValue(rateShare), Parse(parse.GetValue(sampleEvery)!), parse.GetValue(json)?.FullName),
                parse.GetValue(seed),
                parse.GetValue(nodes),
                LocalPostgres.ChooseStore(parse.GetValue(store)!, parse.GetResult(store) is { Implicit: false }, parse.GetValue(connection), line => Console.WriteLine("drill: " + line)),
                parse.GetValue(connection),
                stop)
            : RunAsync(
            parse.GetValue(transactions),
            parse.GetValue(kills),
            parse.GetValue(seed),
            parse.GetValue(nodes),
            LocalPostgres.ChooseStore(parse.GetValue(store)!, parse.GetResult(store) is { Implicit: false }, parse.GetValue(connection), line => Console.WriteLine("drill: " + line)),
            parse.GetValue(connection),
            parse.GetValue(hostileShare),
            stop)));
        return command;
    }

    /// <summary>A soak's samples: what <see cref="Growth"/> needs after its warm-up, and a few more.</summary>
    private const int SoakSamples = 8;

    private static void AddSoakValidators(Option<string?> soak, Option<double?> rate, Option<double> rateShare, Option<string> sampleEvery, Option<FileInfo?> json)
    {
        soak.Validators.Add(r =>
        {
            if (!(Durations.TryParse(r.GetValueOrDefault<string?>(), out var d) && d > TimeSpan.Zero && d <= TimeSpan.FromDays(7)))
            {
                r.AddError($"--soak must be a duration above zero and at most 7d ({Durations.Hint}); got '{r.GetValueOrDefault<string?>()}'");
            }
        });
        rate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is not (> 0 and <= 1_000_000))
            {
                r.AddError("--rate must be above 0 and at most 1000000 records per second");
            }
        });
        rateShare.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (> 0 and <= 1))
            {
                r.AddError("--rate-share must be above 0 and at most 1 (e.g. 0.8 for 80% of the maximum rate)");
            }
        });
        sampleEvery.Validators.Add(r =>
        {
            if (!(Durations.TryParse(r.GetValueOrDefault<string>(), out var d) && d >= TimeSpan.FromSeconds(1)))
            {
                r.AddError($"--sample-every must be a duration of at least 1s ({Durations.Hint}); got '{r.GetValueOrDefault<string>()}'");
            }
        });
        json.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<FileInfo?>() is { } file && !(file.Directory?.Exists ?? false))
            {
                r.AddError($"--json {file}: the directory {file.DirectoryName} does not exist");
            }
        });
    }

    private static TimeSpan Parse(string duration) => Durations.TryParse(duration, out var d) ? d : throw new ArgumentException($"not a duration: {duration}", nameof(duration));

    private static Task<int> SoakAsync(SoakOptions options, int seed, int nodes, string store, string? connection, CancellationToken stop) =>
        OnStoreAsync(store, connection, "fraud-soak", (connectionString, ownPostgres) => ConsoleProgress.RunAsync("drill", async progress =>
        {
            using var drill = RecoveryDrill.Start(0, seed, nodes == 1 ? Partitions : ClusterDrill.Partitions, store, connectionString, ownPostgres, progress);
            return await new SoakDrill(drill, nodes, options, progress).RunAsync(stop).ConfigureAwait(false);
        }));

    /// <summary>
    /// Runs <paramref name="body"/> on the store: a PostgreSQL server of its own unless a
    /// connection was given, or a temporary SQLite file; both removed at the end.
    /// </summary>
    private static async Task<int> OnStoreAsync(string store, string? connection, string name, Func<string, bool, Task<int>> body)
    {
        using var postgres = store == JournalStore.Postgres && string.IsNullOrWhiteSpace(connection) ? LocalPostgres.Start() : null;
        var database = store == JournalStore.Sqlite ? Path.Combine(Path.GetTempPath(), $"{name}-{Environment.ProcessId}.db") : null;
        try
        {
            return await body(postgres?.ConnectionString ?? (database is null ? connection! : $"Data Source={database}"), postgres is not null).ConfigureAwait(false);
        }
        finally
        {
            if (database is not null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                foreach (var file in new[] { database, database + "-wal", database + "-shm" })
                {
                    File.Delete(file);
                }
            }
        }
    }

    private static Task<int> RunAsync(int count, int kills, int seed, int nodes, string store, string? connection, double? hostileShare, CancellationToken stop) =>
        OnStoreAsync(store, connection, "fraud-drill", (connectionString, ownPostgres) => ConsoleProgress.RunAsync("drill", async progress =>
        {
            using var drill = RecoveryDrill.Start(count, seed, nodes == 1 ? Partitions : ClusterDrill.Partitions, store, connectionString, ownPostgres, progress, hostileShare);
            return nodes == 1
                ? await DrillAsync(drill, kills, progress, stop).ConfigureAwait(false)
                : await new ClusterDrill(drill, nodes, kills, progress).RunAsync(stop).ConfigureAwait(false);
        }));

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
                    progress.Report("final run: catching up", (double)committed / stream.OnTopic);
                    return last.StandardError.Any(l => l.Contains("Partitions assigned", StringComparison.Ordinal)) && committed >= stream.OnTopic;
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
