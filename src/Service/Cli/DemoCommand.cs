using System.CommandLine;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Configuration;
using FraudActors.Service.Composition;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using FraudActors.Service.Http;
using FraudActors.Service.Producing;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud demo</c>, the README's first command: dev broker, producer and service in one
/// process, on embedded defaults, with ALERT lines for u901 and u902 within a minute.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Run everything in one process: dev broker, producer, service. ALERT lines appear within a minute.");
        var rate = new Option<double>("--rate") { Description = "background transactions per second", DefaultValueFactory = _ => 20 };
        var users = new Option<int>("--users") { Description = "background users", DefaultValueFactory = _ => 500 };
        var duration = new Option<string?>("--duration") { Description = "stop by itself after this long (e.g. 90s); default: until Ctrl-C" };
        duration.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && !(Durations.TryParse(text, out var d) && d > TimeSpan.Zero))
            {
                r.AddError($"--duration: '{text}' is not a positive duration; {Durations.Hint}");
            }
        });
        command.Options.Add(rate);
        command.Options.Add(users);
        command.Options.Add(duration);

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var generator = ProduceCommand.GeneratorOptions(seed: null, parse.GetValue(users), parse.GetValue(rate), start: null, count: null);
            var settings = FraudSettings.From(SettingsLoader.Load(
                new Dictionary<SettingKey, string>(), [SettingKeys.Http, SettingKeys.AdminToken, SettingKeys.ReadToken], configFile: null, environmentName: "demo", Environment.GetEnvironmentVariable));
            HttpAddress.Parse(settings.Http);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(stop);
            if (parse.GetValue(duration) is { } text && Durations.TryParse(text, out var d))
            {
                limit.CancelAfter(d);
            }

            using var broker = BrokerCommand.Start(settings.Topics, partitions: 3);
            // The dev broker starts empty each time, so the demo's checkpoints do too: a fresh SQLite file.
            var database = Path.Combine(Path.GetTempPath(), $"fraud-demo-{Environment.ProcessId}.db");
            settings = settings with { Bootstrap = broker.BootstrapServers, Store = JournalStore.Sqlite, Connection = $"Data Source={database}" };
            await Console.Error.WriteLineAsync(
                $"fraud demo: dev broker at {broker.BootstrapServers}; {generator.Rate} transactions/s from {generator.Users} users; " +
                "u901 and u902 burst every 30 s. ALERT lines follow, and WINDOW lines of the bursting users as their windows close. Ctrl-C stops. " +
                $"State is kept in a throwaway SQLite file ({database}), empty at each start like the dev broker: fraud run keeps it in fraud-state.db.").ConfigureAwait(false);

            var outputs = new NodeOutputs(
                alert => Console.WriteLine(alert.ToConsoleLine()),
                window =>
                {
                    if (TransactionGenerator.Bursts.Any(b => b.User == window.UserId))
                    {
                        Console.WriteLine(window.ToConsoleLine());
                    }
                });
            await using var node = await FraudNode.StartAsync(settings, outputs, limit.Token).ConfigureAwait(false);
            // PATCH /jobs/{id} (the dashboard's buttons) ends the demo as Ctrl-C does.
            node.Job.StopRequested.GetAwaiter().OnCompleted(limit.Cancel);
            node.StoreFault.GetAwaiter().OnCompleted(limit.Cancel);
            var records = new TransactionGenerator(generator).Generate().Select(TransactionGenerator.ToRecord);
            try
            {
                await TransactionProducer.RunAsync(
                    broker.BootstrapServers, settings.Topics.Transactions, records, generator.Rate, maxSpeed: false, progress: null, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested)
            {
            }

            if (node.StoreFault.IsCompleted)
            {
                await RunCommand.StopOnStoreFaultAsync(node).ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            var cancel = node.Job.StopRequested is { IsCompletedSuccessfully: true } requested && requested.Result == StopMode.Cancel;
            await (cancel ? node.CancelAsync() : node.StopAsync()).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"fraud demo: stopped cleanly ({node.Metrics}; checkpoints completed={node.Checkpoints.Completed} failed={node.Checkpoints.Failed})").ConfigureAwait(false);
            foreach (var file in new[] { database, database + "-wal", database + "-shm" })
            {
                File.Delete(file);
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
