using System.CommandLine;
using System.Globalization;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Storage;
using FraudActors.Service.Composition;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;

namespace FraudActors.Service.Cli;

/// <summary><c>fraud checkpoints</c>: the lecture's Checkpoints tab, read from the service's database.</summary>
public static class CheckpointsCommand
{
    public static Command Create()
    {
        var command = new Command("checkpoints", "Print the checkpoint history (epoch, start, duration, users persisted, bytes, status) from the service's database.");
        var options = new CommandOptions(command, SettingKeys.Store, SettingKeys.Connection, SettingKeys.StorePath);
        var limit = new Option<int>("--limit") { Description = "how many of the newest checkpoints", DefaultValueFactory = _ => 20 };
        command.Options.Add(limit);
        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var settings = options.Settings(parse);
            if (settings.Store == JournalStore.Memory || string.IsNullOrWhiteSpace(settings.Connection))
            {
                throw new ConfigurationException("--store/--connection: the checkpoint history is kept in the sqlite or postgres database the service runs with; name it");
            }

            // Reading must not create an empty database where the service never ran.
            if (settings.Store == JournalStore.Sqlite && SqliteFaults.DatabaseFile(settings.Connection) is { } file && !File.Exists(file))
            {
                throw new ConfigurationException($"--store-path/--connection: no SQLite database at '{file}': the service keeps its checkpoints in the file it runs with (fraud-state.db in its working directory unless told otherwise); name that one");
            }

            var log = NodeStores.CheckpointLogOf(settings)!;
            var records = await log.RecentAsync(parse.GetValue(limit), stop).ConfigureAwait(false);
            var completed = records.Count(r => r.Status == CheckpointStatus.Completed);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{records.Count} newest checkpoints: {completed} completed, {records.Count - completed} failed"));
            Console.WriteLine($"{"epoch",8} {"part",4} {"started (UTC)",-24} {"ms",7} {"users",7} {"bytes",10} {"offset",10} status");
            foreach (var r in records)
            {
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{r.Epoch,8} {r.Partition,4} {r.Started.UtcDateTime,-24:yyyy-MM-dd HH:mm:ss.fff} {(long)r.Duration.TotalMilliseconds,7} {r.UsersPersisted,7} {r.Bytes,10} {r.NextOffset,10} {r.Status}{(r.Failure is null ? string.Empty : ": " + r.Failure)}"));
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
