using System.CommandLine;
using System.Globalization;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud produce</c>: the lab's <c>produce_transactions.py</c>, rebuilt: synthetic background
/// users plus the bursting users u901 and u902, or the replay of a JSONL file.
/// </summary>
public static class ProduceCommand
{
    /// <summary>With a seed the stream's event time starts here, so the same seed gives the same stream.</summary>
    public static readonly DateTimeOffset SeededStart = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    public static Command Create()
    {
        var command = new Command("produce", "Produce transactions to Kafka: synthetic users with bursting u901/u902, or a JSONL file.");
        var options = new CommandOptions(command, SettingKeys.Bootstrap, SettingKeys.TransactionsTopic);
        var rate = PositiveOption<double>("--rate", "transactions per second (wall clock and event time)", 20);
        var count = new Option<long?>("--count") { Description = "stop after this many transactions (default: run until stopped)" };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long?>() is <= 0)
            {
                r.AddError("--count must be a positive number");
            }
        });
        var users = PositiveOption<int>("--users", "number of background users", 1000);
        var seed = new Option<int?>("--seed") { Description = "random seed: the same seed gives the same stream, event times included" };
        var start = new Option<DateTimeOffset?>("--start") { Description = "event time of the first transaction (default: now, or 2026-03-17T09:00:00Z with --seed)" };
        var file = new Option<FileInfo>("--file") { Description = "replay this JSONL file (one transaction per line) instead of generating" };
        file.AcceptExistingOnly();
        var maxSpeed = new Option<bool>("--max-speed") { Description = "send as fast as possible; event time still advances 1/rate per transaction" };
        var hostileShare = new Option<double?>("--hostile-share")
        {
            Description = "mix malformed and abusive records into the generated stream, this share of all records (e.g. 0.1); each carries hostile-kind and hostile-expected-reason headers",
        };
        hostileShare.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } share && !(share is > 0 and < 1))
            {
                r.AddError("--hostile-share must be above 0 and below 1 (e.g. 0.1)");
            }
        });
        foreach (var option in new Option[] { rate, count, users, seed, start, file, maxSpeed, hostileShare })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var settings = options.Settings(parse);
            KafkaClientConfigs.Validate(settings);
            IEnumerable<OutgoingRecord> records;
            var hostile = parse.GetValue(hostileShare);
            if (parse.GetValue(file) is { } jsonl)
            {
                if (hostile is not null)
                {
                    throw new ConfigurationException("--hostile-share mixes hostile records into the generated stream; it cannot be used with --file");
                }

                var lines = TransactionFile.Read(jsonl.FullName);
                if (parse.GetValue(count) is { } limit)
                {
                    lines = lines.Take((int)Math.Min(limit, int.MaxValue));
                }

                records = lines.Select(OutgoingRecord.Of);
            }
            else
            {
                var given = parse.GetValue(seed);
                var generator = GeneratorOptions(given, parse.GetValue(users), parse.GetValue(rate), parse.GetValue(start), parse.GetValue(count));
                var valid = new TransactionGenerator(generator).Generate();

                // --count counts the valid records; the hostile ones come on top.
                records = hostile is { } share
                    ? new HostileRecords(generator.Seed, share).Mix(valid)
                    : valid.Select(TransactionGenerator.ToRecord).Select(OutgoingRecord.Of);
            }

            var total = parse.GetValue(count);
            var summary = await ConsoleProgress.RunAsync(
                "produce",
                bar => TransactionProducer.RunAsync(
                    settings.Bootstrap,
                    settings.Topics.Transactions,
                    records,
                    parse.GetValue(rate),
                    parse.GetValue(maxSpeed),
                    p => bar.Report(string.Create(CultureInfo.InvariantCulture, $"{p.Sent} records sent ({p.PerSecond:0.0}/s)"), total is { } n ? p.Sent / (double)n : 0),
                    stop,
                    KafkaClientConfigs.ProducerProperties(settings)),
                Console.Error).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"fraud produce: {summary}").ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Generator options from the command's values; without a seed one is drawn and printed.</summary>
    public static GeneratorOptions GeneratorOptions(int? seed, int users, double rate, DateTimeOffset? start, long? count)
    {
        var options = new GeneratorOptions(
            seed ?? Random.Shared.Next(),
            users,
            rate,
            start ?? (seed is null ? DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()) : SeededStart),
            count);
        if (TransactionGenerator.Validate(options) is { } error)
        {
            throw new ConfigurationException(error);
        }

        if (seed is null)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fraud: seed={options.Seed} (pass --seed {options.Seed} --start {options.Start:O} to repeat this stream)"));
        }

        return options;
    }

    private static Option<T> PositiveOption<T>(string name, string description, T fallback)
        where T : struct, IComparable<T>
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<T>().CompareTo(default) <= 0)
            {
                r.AddError($"{name} must be a positive number");
            }
        });
        return option;
    }
}
