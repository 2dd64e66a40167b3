using System.CommandLine;
using System.Globalization;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Kafka;
using FraudActors.FraudService.Configuration;
using FraudActors.FraudService.Drill;
using FraudActors.FraudService.Producing;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;

namespace FraudActors.FraudService.Cli;

/// <summary>
/// <c>fraud drill</c>: the recovery drill. A seeded stream flows while the service, a child
/// process, is killed with SIGKILL at random moments and restarted; at the end the alerts topic
/// and the alerts table are compared with an independent reference computed from the input.
/// </summary>
public static class DrillCommand
{
    private const string Group = "fraud-drill";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static Command Create()
    {
        var command = new Command("drill", "Recovery drill: kill -9 the service at random moments while a seeded stream flows, then prove no alert is duplicated or missing.");
        var transactions = new Option<int>("--transactions") { Description = "transactions in the stream", DefaultValueFactory = _ => 100_000 };
        var kills = new Option<int>("--kills") { Description = "how many times the service is killed with SIGKILL", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "seed of the stream and of the kill moments", DefaultValueFactory = _ => 42 };
        var store = new Option<string>("--store") { Description = "sqlite (a new temporary file, the default) or postgres (give --connection to an empty database)", DefaultValueFactory = _ => JournalStore.Sqlite };
        var connection = new Option<string?>("--connection") { Description = "the database for --store postgres" };
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
            parse.GetValue(transactions), parse.GetValue(kills), parse.GetValue(seed), parse.GetValue(store)!, parse.GetValue(connection), stop)));
        return command;
    }

    private static async Task<int> RunAsync(int count, int kills, int seed, string store, string? connection, CancellationToken stop)
    {
        if (store == JournalStore.Postgres && string.IsNullOrWhiteSpace(connection))
        {
            throw new ConfigurationException("--connection: --store postgres needs the connection string of an empty database");
        }

        var database = store == JournalStore.Sqlite ? Path.Combine(Path.GetTempPath(), $"fraud-drill-{Environment.ProcessId}.db") : null;
        connection = database is null ? connection! : $"Data Source={database}";
        var topics = new TopicNames("transactions", "alerts", "transactions.dlq");
        using var broker = BrokerCommand.Start(topics, partitions: 3);
        Say($"dev broker at {broker.BootstrapServers}; store {store}");

        // The whole stream first, so every kill lands mid-stream at a known position.
        var options = new GeneratorOptions(seed, Users: 5000, Rate: 40, ProduceCommand.SeededStart, count);
        await TransactionProducer.RunAsync(broker.BootstrapServers, topics.Transactions, new TransactionGenerator(options).Generate().Select(TransactionGenerator.ToRecord), options.Rate, maxSpeed: true, TextWriter.Null, stop).ConfigureAwait(false);
        var input = TopicReader.ReadAll(broker.BootstrapServers, topics.Transactions, Timeout);
        Say($"produced {input.Count} transactions (seed {seed})");

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
            using var service = ServiceProcess.Start(environment, "run", "--checkpoint-interval", "500ms");
            var target = (long)(moments[i] * count);
            await WaitAsync(() => Committed(broker.BootstrapServers) >= target || service.HasExited, stop).ConfigureAwait(false);
            if (service.HasExited)
            {
                throw new InvalidOperationException("the service exited by itself:\n" + string.Join('\n', service.StandardError.TakeLast(20)));
            }

            service.KillHard();
            resumed.AddRange(Resumed(service));
            Say($"kill {i + 1}/{moments.Count}: SIGKILL after {Committed(broker.BootstrapServers)}/{count} committed");
        }

        using (var last = ServiceProcess.Start(environment, "run", "--checkpoint-interval", "500ms"))
        {
            await WaitAsync(() => last.StandardError.Any(l => l.Contains("Partitions assigned", StringComparison.Ordinal)) && Committed(broker.BootstrapServers) >= count, stop).ConfigureAwait(false);
            var exit = await last.InterruptAsync(Timeout).ConfigureAwait(false);
            resumed.AddRange(Resumed(last));
            Say($"final run caught up and stopped with exit code {exit}");
        }

        foreach (var line in resumed)
        {
            Say("  " + line);
        }

        var parser = new TransactionParser();
        var expected = AlertReference.SlidingVelocityIds(input.Select(r =>
            (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value).Transaction!)));
        var onTopic = TopicReader.ReadAll(broker.BootstrapServers, topics.Alerts, Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        IAlertStore table = store == JournalStore.Postgres ? SqlAlertStore.PostgreSql(connection) : SqlAlertStore.Sqlite(connection);
        var inTable = await table.AlertIdsAsync(stop).ConfigureAwait(false);

        var failed = Report("alerts topic", expected, onTopic) | Report("alerts table", expected, inTable);
        if (database is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(database);
        }

        Console.WriteLine(failed ? "DRILL FAILED" : $"DRILL PASSED: {kills} kills, {expected.Count} alerts, none duplicated, none missing");
        return failed ? ExitCodes.Failure : ExitCodes.Success;
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
        TopicReader.CommittedOffsets(bootstrap, Group, "transactions", 3, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o));

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

    private static void Say(string line) => Console.WriteLine("drill: " + line);
}
