using System.CommandLine;
using System.Globalization;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Configuration;
using FraudActors.Actors.Kafka;
using FraudActors.Actors.Windows.Output;
using FraudActors.FraudService.Configuration;
using FraudActors.FraudService.Drill;
using FraudActors.FraudService.Producing;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;

namespace FraudActors.FraudService.Cli;

/// <summary>
/// <c>fraud drill</c>: the recovery drill. A seeded stream flows while the service, a child
/// process on a PostgreSQL database, is killed with SIGKILL at random moments (while
/// processing, during a checkpoint, during alert publishing) and restarted; at the end the
/// alerts topic, the alerts table, the window result topics and table, and every user's
/// checkpointed transaction count are compared with an independent reference computed from the
/// input. A flush record to each partition, a day after the stream, closes every real window.
/// </summary>
public static class DrillCommand
{
    private const string Group = "fraud-drill";
    private const int Partitions = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MomentTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var command = new Command("drill", "Recovery drill: kill -9 the service at random moments while a seeded stream flows, then prove no alert and no window result is duplicated or missing.");
        var transactions = new Option<int>("--transactions") { Description = "transactions in the stream", DefaultValueFactory = _ => 100_000 };
        var kills = new Option<int>("--kills") { Description = "how many times the service is killed with SIGKILL", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "seed of the stream and of the kill moments", DefaultValueFactory = _ => 42 };
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
        store.AcceptOnlyFromAmong(JournalStore.Sqlite, JournalStore.Postgres);
        foreach (var option in new Option[] { transactions, kills, seed, store, connection })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, _) => Guarded.RunAsync(stop => RunAsync(
            parse.GetValue(transactions),
            parse.GetValue(kills),
            parse.GetValue(seed),
            LocalPostgres.ChooseStore(parse.GetValue(store)!, parse.GetResult(store) is { Implicit: false }, parse.GetValue(connection), line => Console.WriteLine("drill: " + line)),
            parse.GetValue(connection),
            stop)));
        return command;
    }

    private static async Task<int> RunAsync(int count, int kills, int seed, string store, string? connection, CancellationToken stop)
    {
        using var postgres = store == JournalStore.Postgres && string.IsNullOrWhiteSpace(connection) ? LocalPostgres.Start() : null;
        var database = store == JournalStore.Sqlite ? Path.Combine(Path.GetTempPath(), $"fraud-drill-{Environment.ProcessId}.db") : null;
        connection = postgres?.ConnectionString ?? (database is null ? connection! : $"Data Source={database}");
        try
        {
            return await ConsoleProgress.RunAsync("drill", progress => DrillAsync(count, kills, seed, store, connection, postgres is not null, progress, stop)).ConfigureAwait(false);
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

    private static async Task<int> DrillAsync(int count, int kills, int seed, string store, string connection, bool ownPostgres, ConsoleProgress progress, CancellationToken stop)
    {
        var topics = new TopicNames("transactions", "alerts", "transactions.dlq");
        using var broker = BrokerCommand.Start(topics, Partitions);
        progress.Say($"dev broker at {broker.BootstrapServers}; store {store}{(ownPostgres ? " (a PostgreSQL server of its own)" : string.Empty)}");

        // The windows are the service's own configuration (hocon/fraud.conf under FRAUD_ENV=dev);
        // event time and its watermark bound are pinned on its command line, so that FRAUD_*
        // variables in the drill's environment cannot make the service differ from the reference.
        var configured = FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [], null, "dev", Environment.GetEnvironmentVariable));
        var windows = configured.Windows;
        var outOfOrderness = TimeSpan.FromMilliseconds(configured.Time.Watermarks.OutOfOrdernessMs);
        string[] run = ["run", "--checkpoint-interval", "500ms", "--time", "event-time", .. outOfOrderness > TimeSpan.Zero ? ["--out-of-orderness", Durations.Format(outOfOrderness)] : Array.Empty<string>()];

        // The stream flows while the service is killed: paced so that it spans the kills (each
        // restart waits about a session timeout to get its partitions back), so every kill lands
        // in a service that is busy reading, checkpointing and publishing.
        var pace = count / Math.Max(30.0, kills * 12.0);
        var options = new GeneratorOptions(seed, Users: 5000, Rate: 40, ProduceCommand.SeededStart, count);
        var producing = TransactionProducer.RunAsync(
            broker.BootstrapServers, topics.Transactions, new TransactionGenerator(options).Generate().Select(TransactionGenerator.ToRecord), pace, maxSpeed: false, progress: null, stop);
        progress.Say(string.Create(CultureInfo.InvariantCulture, $"producing {count} transactions (seed {seed}) at {pace:0} per second"));

        var environment = new Dictionary<string, string>
        {
            ["FRAUD_ENV"] = "dev",
            ["FRAUD_GROUP"] = Group,
            ["FRAUD_BOOTSTRAP"] = broker.BootstrapServers,
            ["FRAUD_STORE"] = store,
            ["FRAUD_CONNECTION"] = connection,
        };
        var random = new Random(seed);
        var moments = Enumerable.Range(0, kills).Select(_ => random.NextDouble() * 0.95).Order().ToList();
        var resumed = new List<string>();
        for (var i = 0; i < moments.Count; i++)
        {
            // The kinds of moment take turns: plain processing, a checkpoint under way, alerts being published.
            var moment = (KillMoment)(i % 3);
            using var service = ServiceProcess.Start(environment, run);
            var target = (long)(moments[i] * count);
            progress.Report($"kill {i + 1}/{moments.Count}: running to {target}/{count}", (double)Committed(broker.BootstrapServers) / count);
            await WaitAsync(() => Committed(broker.BootstrapServers) >= target || service.HasExited, stop).ConfigureAwait(false);
            var landed = await AwaitMomentAsync(service, moment, stop).ConfigureAwait(false);
            if (service.HasExited)
            {
                throw new InvalidOperationException("the service exited by itself:\n" + string.Join('\n', service.StandardError.TakeLast(20)));
            }

            service.KillHard();
            var from = Resumed(service).ToList();
            resumed.AddRange(from.Select(l => $"run {i + 1}: {l}"));
            progress.Say($"kill {i + 1}/{moments.Count}: SIGKILL {landed}, {Committed(broker.BootstrapServers)}/{count} committed");
        }

        progress.Report("final run: catching up", (double)Committed(broker.BootstrapServers) / count);
        var summary = await producing.ConfigureAwait(false);
        var parser = new TransactionParser();
        var transactions = TopicReader.ReadAll(broker.BootstrapServers, topics.Transactions, Timeout)
            .Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value).Transaction!))
            .ToList();
        var real = transactions.Count;

        // The flush records end the stream: every partition's watermark passes every real window.
        var flush = await FlushRecords.ProduceAsync(broker.BootstrapServers, topics.Transactions, Partitions, transactions.Select(t => t.Item3.Timestamp).DefaultIfEmpty(ProduceCommand.SeededStart).Max(), stop).ConfigureAwait(false);
        transactions.AddRange(flush);
        progress.Say($"producer done: {summary}; {real} transactions on the topic, then a flush record to each of its {Partitions} partitions at {TransactionJson.FormatTimestamp(flush[0].Transaction.Timestamp)}");
        var expectedWindows = windows.Any ? WindowResultsCheck.Expected(transactions, outOfOrderness, windows) : [];
        progress.Say(string.Create(CultureInfo.InvariantCulture, $"window results expected: {expectedWindows.Count} ({WindowResultsCheck.Describe(windows)}; watermark {outOfOrderness.TotalSeconds:0.###} s behind the newest ts of a partition)"));
        string[] windowTopics = [topics.WindowCounts, topics.Sessions];
        using (var last = ServiceProcess.Start(environment, run))
        {
            await WaitAsync(
                () =>
                {
                    var committed = Committed(broker.BootstrapServers);
                    progress.Report("final run: catching up", (double)committed / transactions.Count);
                    return last.StandardError.Any(l => l.Contains("Partitions assigned", StringComparison.Ordinal)) && committed >= transactions.Count;
                },
                stop).ConfigureAwait(false);
            if (windows.Any)
            {
                var caughtUp = await WindowResultsCheck.WaitAsync(
                    broker.BootstrapServers,
                    windowTopics,
                    expectedWindows.Count,
                    Timeout,
                    published => progress.Report("final run: waiting for the window results", (double)published / Math.Max(1, expectedWindows.Count)),
                    stop).ConfigureAwait(false);
                if (!caughtUp)
                {
                    progress.Say($"the window result topics did not reach {expectedWindows.Count} distinct results within {Timeout}");
                }
            }

            progress.Report("final run: stopping with a final checkpoint", 1);
            var exit = await last.InterruptAsync(Timeout).ConfigureAwait(false);
            resumed.AddRange(Resumed(last).Select(l => $"final run: {l}"));
            progress.Say($"final run caught up and stopped with exit code {exit}");
        }

        progress.Say("where each restart resumed:");
        foreach (var line in resumed)
        {
            progress.Say("  " + line);
        }

        progress.Report("comparing with the reference", 1);
        var expected = AlertReference.SlidingVelocityIds(transactions);
        var onTopic = TopicReader.ReadAll(broker.BootstrapServers, topics.Alerts, Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        IAlertStore table = store == JournalStore.Postgres ? SqlAlertStore.PostgreSql(connection) : SqlAlertStore.Sqlite(connection);
        var inTable = await table.AlertIdsAsync(stop).ConfigureAwait(false);
        var counts = CountReference.Expected(transactions.Select(t => t.Item3));
        var state = await JournalReader.ReadUsersAsync(store, connection, topics.Transactions, Partitions, Timeout).ConfigureAwait(false);

        var failed = Report("alerts topic", expected, onTopic) | Report("alerts table", expected, inTable);
        if (windows.Any)
        {
            var results = WindowResultsCheck.Read(broker.BootstrapServers, windowTopics, Timeout);
            var resultTable = WindowResultStore(store, connection);
            var tableIds = resultTable is null ? null : await resultTable.ResultIdsAsync(stop).ConfigureAwait(false);
            var (total, published) = resultTable is null ? (0, 0) : await resultTable.CountAsync(stop).ConfigureAwait(false);
            failed |= ReportWindowTopics(expectedWindows, results, topics);
            failed |= tableIds is not null && ReportWindowTable(expectedWindows, tableIds, total - published);
        }
        else
        {
            Console.WriteLine("window results: no window is configured");
        }

        failed |= ReportCounts(counts, state);
        Console.WriteLine(failed
            ? "DRILL FAILED"
            : $"DRILL PASSED: {kills} kills, {expected.Count} alerts, none duplicated, none missing; {expectedWindows.Count} window results, none duplicated, none missing, none wrong; {counts.Count} users' transaction counts as the input");
        return failed ? ExitCodes.Failure : ExitCodes.Success;
    }

    /// <summary>The <c>window_results</c> table of the store; none for the memory store, whose table died with the service.</summary>
    private static SqlWindowResultStore? WindowResultStore(string store, string connection) => store switch
    {
        JournalStore.Postgres => SqlWindowResultStore.PostgreSql(connection),
        JournalStore.Sqlite => SqlWindowResultStore.Sqlite(connection),
        _ => null,
    };

    /// <summary>Once the service is past its target, waits for the kind of moment the kill should land in.</summary>
    private static async Task<string> AwaitMomentAsync(ServiceProcess service, KillMoment moment, CancellationToken stop)
    {
        var errors = service.StandardError.Count();
        var outputs = service.StandardOutput.Count();
        Func<bool> arrived = moment switch
        {
            KillMoment.Checkpoint => () => service.StandardError.Skip(errors).Any(l => l.Contains("Checkpoint ", StringComparison.Ordinal) && l.Contains(" triggered", StringComparison.Ordinal)),
            KillMoment.AlertPublishing => () => service.StandardOutput.Skip(outputs).Any(l => l.StartsWith("ALERT ", StringComparison.Ordinal)),
            _ => () => true,
        };
        var deadline = DateTime.UtcNow + MomentTimeout;
        while (!arrived() && !service.HasExited)
        {
            if (DateTime.UtcNow > deadline)
            {
                return $"while processing (no {Describe(moment)} within {MomentTimeout.TotalSeconds:0} s)";
            }

            await Task.Delay(1, stop).ConfigureAwait(false);
        }

        return Describe(moment) switch
        {
            "processing" => "while processing",
            var kind => $"during {kind}",
        };
    }

    private static string Describe(KillMoment moment) => moment switch
    {
        KillMoment.Checkpoint => "a checkpoint",
        KillMoment.AlertPublishing => "alert publishing",
        _ => "processing",
    };

    private static bool ReportCounts(Dictionary<string, long> expected, IReadOnlyDictionary<string, Actors.Users.UserState> state)
    {
        var differences = CountReference.Differences(expected, state);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"user state: {expected.Count} users expected, {state.Count} checkpointed; transaction counts differing {differences.Count}"));
        foreach (var line in differences.Take(5))
        {
            Console.WriteLine("  " + line);
        }

        return differences.Count > 0;
    }

    /// <summary>Both result topics against the reference: each id once, none missing or extra, its count and total right, on its kind's topic.</summary>
    private static bool ReportWindowTopics(List<WindowReference.Expected> expected, List<PublishedWindowResult> results, TopicNames topics)
    {
        var (duplicates, missing, extra, wrong) = WindowReference.Compare(expected, [.. results.Select(r => (r.Result.ResultId, r.Result.Count, r.Result.TotalAmount))]);
        wrong.AddRange(results
            .Where(r => r.Topic != WindowResultsCheck.TopicFor(r.Result.Kind, topics.WindowCounts, topics.Sessions))
            .Select(r => $"{r.Result.ResultId}: on {r.Topic}, not {WindowResultsCheck.TopicFor(r.Result.Kind, topics.WindowCounts, topics.Sessions)}")
            .Distinct(StringComparer.Ordinal));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"window result topics: expected {expected.Count}, found {results.Count}; duplicates {duplicates.Count}, missing {missing.Count}, extra {extra.Count}, wrong {wrong.Count}"));
        foreach (var line in duplicates.Take(5).Select(d => "duplicate " + d)
            .Concat(missing.Take(5).Select(m => "missing " + m))
            .Concat(extra.Take(5).Select(e => "extra " + e))
            .Concat(wrong.Take(5).Select(w => "wrong " + w)))
        {
            Console.WriteLine("  " + line);
        }

        return duplicates.Count + missing.Count + extra.Count + wrong.Count > 0;
    }

    /// <summary>The <c>window_results</c> outbox table against the reference: the same ids, every one published.</summary>
    private static bool ReportWindowTable(List<WindowReference.Expected> expected, IReadOnlyList<string> ids, long unpublished)
    {
        var (duplicates, missing, extra) = AlertReference.Compare([.. expected.Select(e => e.ResultId)], ids);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"window result table: expected {expected.Count}, found {ids.Count}; duplicates {duplicates.Count}, missing {missing.Count}, extra {extra.Count}, unpublished {unpublished}"));
        foreach (var line in duplicates.Take(5).Select(d => "duplicate " + d).Concat(missing.Take(5).Select(m => "missing " + m)).Concat(extra.Take(5).Select(e => "extra " + e)))
        {
            Console.WriteLine("  " + line);
        }

        return duplicates.Count + missing.Count + extra.Count + unpublished > 0;
    }

    private static bool Report(string what, List<string> expected, IReadOnlyCollection<string> actual)
    {
        var (duplicates, missing, extra) = AlertReference.Compare(expected, actual);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: expected {expected.Count}, found {actual.Count}; duplicates {duplicates.Count}, missing {missing.Count}, extra {extra.Count}"));
        foreach (var id in duplicates.Take(5).Select(d => "duplicate " + d).Concat(missing.Take(5).Select(m => "missing " + m)).Concat(extra.Take(5).Select(e => "extra " + e)))
        {
            Console.WriteLine("  " + id);
        }

        return duplicates.Count + missing.Count + extra.Count > 0;
    }

    private static IEnumerable<string> Resumed(ServiceProcess service) =>
        service.StandardError.Where(l => l.Contains("resuming at offset", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("Partition ", StringComparison.Ordinal) is var at and >= 0 ? at : 0)..]);

    private static long Committed(string bootstrap) =>
        TopicReader.CommittedOffsets(bootstrap, Group, "transactions", Partitions, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o));

    private static async Task WaitAsync(Func<bool> condition, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"drill: no progress within {Timeout}");
            }

            await Task.Delay(100, stop).ConfigureAwait(false);
        }
    }

    private enum KillMoment
    {
        Processing,
        Checkpoint,
        AlertPublishing,
    }
}
