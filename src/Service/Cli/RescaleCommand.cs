using System.CommandLine;
using System.Globalization;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rescaling;
using FraudActors.Engine.Storage;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud rescale</c>: after the job was stopped with a final checkpoint and its topic's
/// partitions were increased, moves each user's state to the journal of the partition the
/// producers' partitioner now picks (docs/design.md, section 8, "Rescaling").
/// </summary>
public static class RescaleCommand
{
    private static readonly TimeSpan JournalTimeout = TimeSpan.FromMinutes(2);

    public static Command Create()
    {
        var command = new Command(
            "rescale",
            "Offline, after a stop with a final checkpoint and an increase of the topic's partitions: move each user's checkpointed state to the partition journal of the partition the producers' partitioner now picks. Old partitions keep their offsets, new ones start at 0.");
        var options = new CommandOptions(command, SettingKeys.Store, SettingKeys.Connection, SettingKeys.StorePath, SettingKeys.Bootstrap, SettingKeys.Group, SettingKeys.TransactionsTopic);
        var to = new Option<int>("--to-partitions") { Description = "the topic's partition count now (after the increase)", Required = true };
        to.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--to-partitions must be a positive number");
            }
        });
        var partitionerOption = new Option<string>("--partitioner")
        {
            Description = "the producers' partitioner: murmur2 (the Java client's default) or crc32 (librdkafka's and Confluent.Kafka's default, which fraud produce uses)",
            Required = true,
        };
        partitionerOption.AcceptOnlyFromAmong([.. ProducerPartitioners.Names]);
        var from = new Option<int?>("--from-partitions") { Description = "the partition count before the increase (default: found from the journals in the store)" };
        from.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--from-partitions must be a positive number");
            }
        });
        var dryRun = new Option<bool>("--dry-run") { Description = "print what would move; write nothing" };
        var skipKafka = new Option<bool>("--skip-kafka-check") { Description = "do not ask Kafka whether the topic has the new count and no unread records of moving users" };
        foreach (var option in new Option[] { to, partitionerOption, from, dryRun, skipKafka })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var settings = options.Settings(parse);
            var toPartitions = parse.GetValue(to);
            var partitioner = ProducerPartitioners.Parse(parse.GetValue(partitionerOption)!);
            var topic = settings.Topics.Transactions;
            RequireDatabase(settings);

            await using var offline = await OfflineJob.TakeAsync(settings, stop).ConfigureAwait(false);
            var found = await JournalPartitions.FindAsync(settings.Store, settings.Connection, topic, stop).ConfigureAwait(false);
            var fromPartitions = parse.GetValue(from) ?? (found.Count == 0 ? 0 : found[^1] + 1);
            if (fromPartitions == 0)
            {
                throw new ConfigurationException($"--store/--connection/--topic: no partition journal of topic {topic} in this {settings.Store} store: nothing to rescale");
            }

            // Every journal that may hold users: the old partitions, and any an interrupted rescale wrote.
            var read = Math.Max(Math.Max(fromPartitions, toPartitions), found.Count == 0 ? 0 : found[^1] + 1);
            var system = RescaleJournals.CreateSystem(settings.Store, settings.Connection);
            try
            {
                await using var journals = new RescaleJournals(system, topic, JournalTimeout);
                var contents = await journals.ReadAsync(read).ConfigureAwait(false);
                RescalePlan plan;
                try
                {
                    plan = RescalePlan.Compute(contents, toPartitions, partitioner);
                }
                catch (ArgumentException e)
                {
                    throw new ConfigurationException($"--to-partitions {toPartitions}: {e.Message}");
                }

                if (!parse.GetValue(skipKafka))
                {
                    RescaleTopicCheck.Run(settings, contents, toPartitions, partitioner);
                }

                Print(plan, topic, settings.GroupId, Math.Max(fromPartitions, plan.FromPartitions));
                var writes = plan.Partitions.Count(p => !p.Unchanged);
                if (parse.GetValue(dryRun))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dry run: nothing written ({writes} partition journal(s) would be)"));
                    return ExitCodes.Success;
                }

                if (writes == 0)
                {
                    Console.WriteLine("nothing to write: the journals already hold this rescale");
                    return ExitCodes.Success;
                }

                await offline.TakePartitionsAsync(toPartitions, stop).ConfigureAwait(false);
                var order = await journals.WriteAsync(plan).ConfigureAwait(false);
                Console.WriteLine($"written: partition(s) {string.Join(", ", order)} (epoch {plan.Epoch.ToString(CultureInfo.InvariantCulture)}); start the job on {toPartitions.ToString(CultureInfo.InvariantCulture)} partitions");
                return ExitCodes.Success;
            }
            finally
            {
                await system.Terminate().ConfigureAwait(false);
            }
        }));
        return command;
    }

    private static void RequireDatabase(FraudSettings settings)
    {
        if (settings.Store == JournalStore.Memory || string.IsNullOrWhiteSpace(settings.Connection))
        {
            throw new ConfigurationException("--store/--connection: the memory store ends with its process, so there is nothing to rescale; name the sqlite or postgres database the job runs with");
        }

        // Reading must not create an empty database where the job never ran.
        if (settings.Store == JournalStore.Sqlite && SqliteFaults.DatabaseFile(settings.Connection) is { } file && !File.Exists(file))
        {
            throw new ConfigurationException($"--store-path/--connection: no SQLite database at '{file}': name the file the job runs with (fraud-state.db in its working directory unless told otherwise)");
        }
    }

    private static void Print(RescalePlan plan, string topic, string group, int fromPartitions)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"rescale of topic {topic} (group {group}): {fromPartitions} -> {plan.ToPartitions} partitions by {plan.Partitioner.Name()}, epoch {plan.Epoch}"));
        foreach (var ((source, target), users) in plan.Moves.OrderBy(m => m.Key.From).ThenBy(m => m.Key.To))
        {
            Console.WriteLine(string.Create(c, $"  {source} -> {target}: {users} user(s){(source == target ? " (stay)" : string.Empty)}"));
        }

        Console.WriteLine(string.Create(c, $"{"partition",9} {"before",8} {"after",8} {"next offset",12} {"watermark",-26} action"));
        foreach (var p in plan.Partitions)
        {
            var watermark = p.WatermarkMs is { } w ? DateTimeOffset.FromUnixTimeMilliseconds(w).ToString("O", c) : "(none)";
            var action = p.Unchanged ? "unchanged" : p.IsNew ? "new" : "rewritten";
            Console.WriteLine(string.Create(c, $"{p.Partition,9} {p.UsersBefore,8} {p.Users.Count,8} {p.NextOffset,12} {watermark,-26} {action}"));
        }

        Console.WriteLine(string.Create(c, $"users: {plan.Users}, moved: {plan.Moved}{(plan.StaleCopies > 0 ? $", stale copies dropped: {plan.StaleCopies} (left by an interrupted rescale)" : string.Empty)}"));
    }
}
