using System.CommandLine;
using FraudActors.Engine.Kafka;
using FraudActors.Service.Configuration;
using FraudActors.Testkit;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud broker</c>: the dev broker (docs/design.md, section 5), librdkafka's mock cluster on
/// loopback with the service's topics created. For development and tests only.
/// </summary>
public static class BrokerCommand
{
    public const int Brokers = 3;

    public static Command Create()
    {
        var command = new Command("broker", "Start the dev broker (librdkafka's in-memory mock Kafka cluster) and create the topics.");
        var partitions = new Option<int>("--partitions")
        {
            Description = "partitions of the transactions topic",
            DefaultValueFactory = _ => 3,
        };
        partitions.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1000)
            {
                r.AddError("--partitions must be between 1 and 1000");
            }
        });
        var bootstrapFile = new Option<FileInfo?>("--bootstrap-file") { Description = "also write the bootstrap line's servers to this file" };
        var controls = new Option<bool>("--controls")
        {
            Description = "read fault controls from standard input, one a line, each answered on standard output: "
                + BrokerControls.Usage + " (brokers are 1-3; e.g. 'errors Produce 5 NOT_LEADER_OR_FOLLOWER')",
        };
        command.Options.Add(partitions);
        command.Options.Add(bootstrapFile);
        command.Options.Add(controls);
        var options = new CommandOptions(command, SettingKeys.TransactionsTopic, SettingKeys.AlertsTopic, SettingKeys.DlqTopic, SettingKeys.WindowCountsTopic, SettingKeys.SessionsTopic, SettingKeys.LateTopic, SettingKeys.RulesTopic, SettingKeys.RulesDlqTopic);

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var settings = options.Settings(parse);
            using var broker = Start(settings.Topics, parse.GetValue(partitions));
            if (parse.GetValue(bootstrapFile) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, broker.BootstrapServers + "\n", CancellationToken.None).ConfigureAwait(false);
            }

            Console.WriteLine($"bootstrap={broker.BootstrapServers}");
            await Console.Error.WriteLineAsync("fraud broker: running (in memory, for development). Ctrl-C stops.").ConfigureAwait(false);
            if (parse.GetValue(controls))
            {
                new BrokerControls(broker).Start(Console.In, Console.Out, stop);
            }

            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await Console.Error.WriteLineAsync("fraud broker: stopped").ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Starts the dev broker with the service's topics; <c>fraud demo</c> uses it too.</summary>
    public static DevBroker Start(TopicNames topics, int partitions)
    {
        var broker = DevBroker.Start(Brokers);
        try
        {
            broker.CreateTopic(topics.Transactions, partitions);
            broker.CreateTopic(topics.Alerts, partitions);
            broker.CreateTopic(topics.DeadLetters, partitions);
            broker.CreateTopic(topics.WindowCounts, partitions);
            broker.CreateTopic(topics.Sessions, partitions);
            broker.CreateTopic(topics.Late, partitions);

            // One partition: the rules' changes in one order (compacted on a real cluster, docs/design.md, "Dynamic rules").
            broker.CreateTopic(topics.Rules, 1);
            broker.CreateTopic(topics.RulesDlq, 1);
            return broker;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }
}
