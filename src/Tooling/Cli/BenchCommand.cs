using System.CommandLine;
using FraudActors.Engine.Storage;
using FraudActors.Service.Cli;
using FraudActors.Tooling.Bench;
using FraudActors.Tooling.Drill;

namespace FraudActors.Tooling.Cli;

/// <summary>
/// <c>fraud bench</c>: measurements with a baseline from the same run. Each scenario prints one
/// line of figures with its ratio to the baseline; <c>--json</c> writes them all. It asserts
/// nothing: figures are for reading, and for comparing runs.
/// </summary>
public static class BenchCommand
{
    public const string Engine = "engine";
    public const string Checkpoint = "checkpoint";
    public const string Recovery = "recovery";
    public const string Placement = "placement";
    public const string Kafka = "kafka";
    public const string Latency = "latency";
    public const string Restart = "restart";
    public const string Memory = "memory";
    public const string Partitions = "partitions";
    public const string All = "all";

    public static Command Create()
    {
        var command = new Command("bench", "Measure engine throughput, checkpoint cost, recovery time, memory per user, shard placement in a cluster, Kafka end to end and alert latency on a real store, each against a same-run baseline.");
        var scenario = new Option<string>("--scenario") { Description = "engine, checkpoint, recovery, memory (bytes per resident user; passivation over a stream of distinct users), placement (three nodes, PostgreSQL only), kafka (dev broker → node → alerts topic, against a bare consumer), latency (alert latency p50/p99/p99.9 at 50% and 80% of the node's maximum rate), restart (from a failed checkpoint to the next record processed, against the restart back-off), partitions (one node on 48 partitions against 3, same stream; not in all) or all", DefaultValueFactory = _ => All };
        var transactions = new Option<int>("--transactions") { Description = "transactions the placement scenario streams through the cluster (default 100000, 10000 with --quick)" };
        var engineUsers = new Option<int>("--engine-users") { Description = "distinct users of the engine scenario's transactions (default 100000; fewer users means more records per resident user)", DefaultValueFactory = _ => 100_000 };
        var engineRules = new Option<string>("--engine-rules") { Description = "rules of the engine scenario's users: lab (the sliding-velocity rule alone) or node (the node's default set: sliding velocity, tumbling and session windows, state TTL, tx_id dedup)", DefaultValueFactory = _ => EngineScenario.LabRules };
        var users = new Option<int>("--users") { Description = "users' state in the journals for the recovery scenario", DefaultValueFactory = _ => 1_000_000 };
        var store = new Option<string>("--store") { Description = "postgres (the default: a throwaway server of its own unless --connection names a database) or sqlite (a temporary file)", DefaultValueFactory = _ => JournalStore.Postgres };
        var connection = new Option<string?>("--connection") { Description = "a PostgreSQL database to measure instead of a server of the bench's own" };
        var json = new Option<FileInfo?>("--json") { Description = "also write the figures as JSON: {\"scenario\": {\"figure\": value}}" };
        var quick = new Option<bool>("--quick") { Description = "smaller sizes (1,000 and 10,000 changed users; 100,000 users recovered with a backlog of 1,000 records; 20,000 resident users and a stream of 50,000; 20,000 Kafka records; 4 s per latency load; one failed checkpoint for restart), a few minutes at most" };
        engineRules.AcceptOnlyFromAmong(EngineScenario.LabRules, EngineScenario.NodeRules);
        scenario.AcceptOnlyFromAmong(Engine, Checkpoint, Recovery, Memory, Placement, Kafka, Latency, Restart, Partitions, All);
        transactions.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1000 or > 300_000)
            {
                r.AddError("--transactions must be between 1000 and 300000 (the dev broker keeps ~5 MiB per partition)");
            }
        });
        store.AcceptOnlyFromAmong(JournalStore.Postgres, JournalStore.Sqlite);
        users.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1000 or > 10_000_000)
            {
                r.AddError("--users must be between 1000 and 10000000");
            }
        });
        engineUsers.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 100 or > 10_000_000)
            {
                r.AddError("--engine-users must be between 100 and 10000000");
            }
        });
        foreach (var option in new Option[] { scenario, users, engineUsers, engineRules, store, connection, json, quick, transactions })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var chosen = parse.GetValue(scenario)!;
            var isQuick = parse.GetValue(quick);
            var recoveryUsers = parse.GetResult(users) is { Implicit: false } ? parse.GetValue(users) : isQuick ? 100_000 : parse.GetValue(users);
            var scenarios = new List<IBenchScenario>();
            if (chosen is Engine or All)
            {
                // Runs last seconds (1-3 s quick, 5-10 s full): checkpoints every 1 s (2 s) so that several fall inside and the dip shows.
                scenarios.Add(new EngineScenario(isQuick ? 200_000 : 1_000_000, users: parse.GetValue(engineUsers), TimeSpan.FromSeconds(isQuick ? 1 : 2), parse.GetValue(engineRules)!));
            }

            if (chosen is Checkpoint or All)
            {
                scenarios.Add(new CheckpointScenario(isQuick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000], repetitions: 3));
            }

            if (chosen is Recovery or All)
            {
                scenarios.Add(new RecoveryScenario(recoveryUsers, backlog: isQuick ? 1_000 : 100_000));
            }

            if (chosen is Memory or All)
            {
                scenarios.Add(new MemoryScenario(residentUsers: isQuick ? 20_000 : 100_000, streamUsers: isQuick ? 50_000 : 1_000_000));
            }

            if (chosen is Kafka or All)
            {
                // The dev broker keeps ~5 MiB per partition: 90,000 records fill ~4 MiB of each of three.
                scenarios.Add(new KafkaScenario(isQuick ? 20_000 : 90_000));
            }

            if (chosen is Latency or All)
            {
                scenarios.Add(new LatencyScenario(isQuick ? 10_000 : 60_000, TimeSpan.FromSeconds(isQuick ? 4 : 20)));
            }

            if (chosen is Restart or All)
            {
                scenarios.Add(new RestartScenario(rounds: isQuick ? 1 : 3));
            }

            if (chosen is Partitions)
            {
                // Kafka: 90,000 records fill ~4 MiB of each of three partitions, near the dev broker's ~5 MiB.
                scenarios.Add(new PartitionsScenario(isQuick ? 30_000 : 90_000, engineTransactions: isQuick ? 100_000 : 400_000, rounds: isQuick ? 2 : 3));
            }

            var given = parse.GetValue(connection);
            var storeName = LocalPostgres.ChooseStore(parse.GetValue(store)!, parse.GetResult(store) is { Implicit: false }, given, context => Console.WriteLine("bench: " + context));
            if (chosen is Placement or All)
            {
                // Three processes share the journals: SQLite's one writer at a time does not fit them.
                if (storeName == JournalStore.Postgres)
                {
                    scenarios.Add(new PlacementScenario(parse.GetResult(transactions) is { Implicit: false } ? parse.GetValue(transactions) : isQuick ? 10_000 : 100_000));
                }
                else if (chosen is Placement)
                {
                    throw new Service.Configuration.ConfigurationException("--scenario placement: runs three nodes on one database, which needs --store postgres");
                }
                else
                {
                    Console.WriteLine("bench: placement skipped: three nodes on one database need --store postgres");
                }
            }

            using var postgres = storeName == JournalStore.Postgres && string.IsNullOrWhiteSpace(given) ? LocalPostgres.Start() : null;
            var database = storeName == JournalStore.Sqlite ? Path.Combine(Path.GetTempPath(), $"fraud-bench-{Environment.ProcessId}.db") : null;
            var connectionString = postgres?.ConnectionString ?? (database is null ? given! : $"Data Source={database}");
            BenchContext? context = null;
            try
            {
                if (database is not null)
                {
                    // The service's own file settings, so that the figures are the service's.
                    await SqliteAccess.Service.PrepareFileAsync(connectionString, stop).ConfigureAwait(false);
                }

                // A bar per scenario on a terminal (the figures printed above it), plain lines otherwise.
                context = await ConsoleProgress.RunAsync("bench", async bar =>
                {
                    var figures = new BenchContext(storeName, connectionString, bar.Writer);
                    figures.Say($"store {storeName}{(postgres is null ? string.Empty : " (a PostgreSQL server of its own)")}; {Environment.ProcessorCount} cores");
                    for (var i = 0; i < scenarios.Count; i++)
                    {
                        bar.Report(scenarios[i].Name, (double)i / scenarios.Count);
                        await scenarios[i].RunAsync(figures, stop).ConfigureAwait(false);
                    }

                    bar.Report("done", 1);
                    return figures;
                }).ConfigureAwait(false);
            }
            finally
            {
                if (database is not null)
                {
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    File.Delete(database);
                    File.Delete(database + "-wal");
                    File.Delete(database + "-shm");
                }
            }

            if (parse.GetValue(json) is { } file && context is not null)
            {
                await context.WriteJsonAsync(file.FullName).ConfigureAwait(false);
                context.Say($"figures written to {file.FullName}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
