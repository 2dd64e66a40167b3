using System.CommandLine;
using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Messages.Alerts;
using FraudActors.Service.Configuration;
using FraudActors.Testkit;

namespace FraudActors.Service.Cli;

/// <summary><c>fraud alerts</c>: a consumer of the alerts topic for people and downstream scripts.</summary>
public static class AlertsCommand
{
    public static Command Create()
    {
        var command = new Command("alerts", "Print alerts from the alerts topic as they arrive.");
        var options = new CommandOptions(command, SettingKeys.Bootstrap, SettingKeys.AlertsTopic);
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "read the topic from its start, not only new alerts" };
        var json = new Option<bool>("--json") { Description = "print each alert's JSON value, one per line" };
        var group = new Option<string?>("--group") { Description = "consumer group; without it a private group is used and nothing is committed" };
        var limit = new Option<int?>("--limit") { Description = "stop after this many alerts" };
        limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0)
            {
                r.AddError("--limit must be a positive number");
            }
        });
        command.Options.Add(fromBeginning);
        command.Options.Add(json);
        command.Options.Add(group);
        command.Options.Add(limit);

        command.SetAction((parse, _) => Guarded.RunAsync(stop =>
        {
            var settings = options.Settings(parse);
            LibRdKafka.EnsureLoaded();
            KafkaClientConfigs.Validate(settings);
            var groupId = parse.GetValue(group);
            var config = new ConsumerConfig(KafkaClientConfigs.ConsumerProperties(settings))
            {
                BootstrapServers = settings.Bootstrap,
                GroupId = groupId ?? $"fraud-alerts-{Guid.NewGuid():N}",
                EnableAutoCommit = groupId is not null,
                // An alert's offset is stored only after it was printed: with a group, a restart
                // prints from the first alert not yet printed (at least once; dedupe by alert_id).
                EnableAutoOffsetStore = false,
                AutoOffsetReset = parse.GetValue(fromBeginning) ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
                IsolationLevel = IsolationLevel.ReadCommitted,
            };
            return Task.Run(() => Consume(config, settings.Topics.Alerts, parse.GetValue(json), parse.GetValue(limit), stop), CancellationToken.None);
        }));
        return command;
    }

    private static int Consume(ConsumerConfig config, string topic, bool json, int? limit, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config)
            .SetErrorHandler((_, e) => Console.Error.WriteLine($"fraud alerts: {e.Reason}"))
            .Build();
        consumer.Subscribe(topic);
        var seen = 0;
        try
        {
            while (limit is null || seen < limit)
            {
                var result = consumer.Consume(stop);
                if (json)
                {
                    Console.WriteLine(Encoding.UTF8.GetString(result.Message.Value));
                }
                else
                {
                    try
                    {
                        Console.WriteLine(AlertJson.Deserialize(result.Message.Value).ToConsoleLine());
                    }
                    catch (FormatException e)
                    {
                        Console.Error.WriteLine($"fraud alerts: skipped partition {result.Partition.Value} offset {result.Offset.Value}: {e.Message}");
                    }
                }

                if (config.EnableAutoCommit == true)
                {
                    consumer.StoreOffset(result);
                }

                seen++;
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            consumer.Close();
        }

        return ExitCodes.Success;
    }
}
