using System.CommandLine;
using FraudActors.Actors.Checkpoints;
using FraudActors.FraudService.Configuration;
using FraudActors.FraudService.Hosting;

namespace FraudActors.FraudService.Cli;

/// <summary><c>fraud run</c>: one service node against a given Kafka bootstrap.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run one FraudActors node: read transactions, apply the rules, publish alerts.");
        var options = new CommandOptions(
            command,
            SettingKeys.Bootstrap,
            SettingKeys.Group,
            SettingKeys.TransactionsTopic,
            SettingKeys.AlertsTopic,
            SettingKeys.DlqTopic,
            SettingKeys.WindowCountsTopic,
            SettingKeys.SessionsTopic,
            SettingKeys.LateTopic,
            SettingKeys.TimeCharacteristic,
            SettingKeys.OutOfOrderness,
            SettingKeys.IdleTimeout,
            SettingKeys.Store,
            SettingKeys.Connection,
            SettingKeys.Http,
            SettingKeys.CheckpointInterval,
            SettingKeys.Parallelism,
            SettingKeys.NodePort);
        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var settings = options.Settings(parse);
            Validate(settings, options.WasGiven(parse, SettingKeys.Http) ? parse : null);
            await using var node = await FraudNode.StartAsync(settings, alert => Console.WriteLine(alert.ToConsoleLine()), stop).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"fraud: running; reading '{settings.Topics.Transactions}' from {settings.Bootstrap}. Ctrl-C stops.").ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await node.StopAsync().ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"fraud: stopped cleanly ({node.Metrics})").ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Refuses settings this build cannot honour rather than silently ignoring them.</summary>
    public static void Validate(FraudSettings settings, ParseResult? httpGiven)
    {
        if (settings.Store != JournalStore.Memory && string.IsNullOrWhiteSpace(settings.Connection))
        {
            throw new ConfigurationException(
                $"--connection: --store {settings.Store} needs the database's connection string (e.g. \"Host=127.0.0.1;Port=5432;Username=fraud;Password=…;Database=fraud\" or \"Data Source=fraud.db\")");
        }

        if (httpGiven is not null)
        {
            Console.Error.WriteLine($"fraud: --http {settings.Http}: the HTTP API is not part of this build yet; the option is ignored");
        }
    }
}
