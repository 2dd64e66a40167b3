using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FraudActors.Engine.Rules;
using FraudActors.Messages.Rules;
using FraudActors.Messages.Serialization;
using FraudActors.Service.Configuration;
using FraudActors.Service.Rules;
using FraudActors.Testkit;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud rules set NAME</c>: checks a rule's new settings against the local configuration as a
/// node would, then publishes them through a node's <c>PUT /rules/{name}</c> (<c>--http</c>) or
/// straight to the rules topic; <c>--reset</c> publishes a tombstone (back to the configured settings).
/// </summary>
public static class RulesSetCommand
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var command = new Command("set", "Change one rule's settings (checked as the configuration is), through a node's HTTP API (--http) or straight to the rules topic.");
        var name = new Argument<string>("NAME") { Description = "the rule: sliding-velocity, timer-velocity, small-then-large" };
        var options = new CommandOptions(command, SettingKeys.Bootstrap, SettingKeys.RulesTopic);
        var json = new Option<string?>("--json") { Description = "the record's value, e.g. '{\"enabled\":true,\"params\":{\"threshold\":3}}' (fields left out keep their configured value)" };
        var enabled = new Option<string?>("--enabled") { Description = "true: the rule runs; false: it does not" };
        var parameters = new Option<string[]>("--param") { Description = "a parameter, key=value (repeat for several), e.g. --param threshold=3 --param window=30s" };
        var reset = new Option<bool>("--reset") { Description = "publish a tombstone: the rule goes back to its configured settings" };
        var http = RulesCommand.HttpOption("publish through its PUT /rules/{name} (DELETE with --reset) instead of writing to Kafka");
        var token = RulesCommand.TokenOption("with --http: the node's admin token (default: $FRAUD_ADMIN_TOKEN)");
        command.Arguments.Add(name);
        foreach (var option in new Option[] { json, enabled, parameters, reset, http, token })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var rule = parse.GetValue(name)!;
            var value = Value(rule, parse.GetValue(json), Enabled(parse.GetValue(enabled)), parse.GetValue(parameters) ?? [], parse.GetValue(reset));
            RulesCommand.RequireOneWay(parse, options, http);

            // Checked here first, as the node and every reader of the topic check it.
            var settings = options.Settings(parse);
            var configured = settings.Rules.Set ?? throw new InvalidOperationException("configured rules without their specs");
            RuleSpec spec;
            try
            {
                spec = RuleRecord.Parse(rule, value, 0, configured);
            }
            catch (RuleRecordException e)
            {
                throw new ConfigurationException(RuleRefusal.Describe(e));
            }

            if (parse.GetValue(http) is { } address)
            {
                using var client = new NodeApiClient(NodeApiClient.ParseAddress(address), RulesCommand.Token(parse, token, "FRAUD_ADMIN_TOKEN"));
                var path = "rules/" + Uri.EscapeDataString(rule);
                var answer = value is null
                    ? await client.SendAsync(HttpMethod.Delete, path, null, stop).ConfigureAwait(false)
                    : await client.SendAsync(HttpMethod.Put, path, value, stop).ConfigureAwait(false);
                PrintAnswer(answer, value is null);
                return ExitCodes.Success;
            }

            LibRdKafka.EnsureLoaded();
            KafkaClientConfigs.Validate(settings);
            using var publisher = new RulesPublisher(settings);
            RulePublished published;
            try
            {
                published = await publisher.PublishAsync(rule, value is null ? null : RuleRecord.Serialize(spec), stop).WaitAsync(PublishTimeout, stop).ConfigureAwait(false);
            }
            catch (RulesTopicMissingException e)
            {
                await Console.Error.WriteLineAsync($"fraud: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            catch (TimeoutException)
            {
                await Console.Error.WriteLineAsync($"fraud: the rules topic '{publisher.Topic}' did not take the record within {PublishTimeout.TotalSeconds:0} s; is Kafka reachable at {settings.Bootstrap}?").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            Print(rule, RulesCommand.Describe(spec), value is null, published.Topic, published.Partition, published.Offset, published.Version);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary><c>--enabled</c>'s text as a flag (null: not given); anything but true or false stops with exit 2.</summary>
    private static bool? Enabled(string? text) => text switch
    {
        null => null,
        "true" => true,
        "false" => false,
        _ => throw new ConfigurationException($"--enabled: '{text}' is not true or false"),
    };

    /// <summary>The record's value the options give (null with --reset: a tombstone); contradicting options stop with exit 2.</summary>
    private static byte[]? Value(string rule, string? json, bool? enabled, string[] parameters, bool reset)
    {
        if (reset)
        {
            return json is null && enabled is null && parameters.Length == 0
                ? null
                : throw new ConfigurationException("--reset: a tombstone carries no settings: not with --json, --enabled or --param");
        }

        if (json is not null)
        {
            return enabled is null && parameters.Length == 0
                ? Encoding.UTF8.GetBytes(json)
                : throw new ConfigurationException("--json: it is the whole value; give the settings either there or with --enabled and --param");
        }

        if (enabled is null && parameters.Length == 0)
        {
            throw new ConfigurationException("--json/--enabled/--param/--reset: say what to set: --json VALUE, --enabled true|false and --param key=value, or --reset");
        }

        var given = new List<(string Key, string Value)>();
        foreach (var p in parameters)
        {
            var equals = p.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ConfigurationException($"--param: '{p}' is not key=value (e.g. --param threshold=3)");
            }

            var key = p[..equals].Trim();
            if (given.Any(g => g.Key == key))
            {
                throw new ConfigurationException($"--param: '{key}' is given twice");
            }

            given.Add((key, p[(equals + 1)..].Trim()));
        }

        return WireJson.Write(w =>
        {
            w.WriteString("rule", rule);
            if (enabled is { } on)
            {
                w.WriteBoolean("enabled", on);
            }

            if (given.Count > 0)
            {
                w.WriteStartObject("params");
                foreach (var (key, value) in given)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }
        });
    }

    /// <summary>The node's answer: the settings it published (a reset: the configured ones) and where.</summary>
    private static void PrintAnswer(string answer, bool reset)
    {
        using var doc = JsonDocument.Parse(answer);
        var r = doc.RootElement;
        var parameters = r.GetProperty("params").EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString() ?? p.Value.GetRawText()));
        Print(
            r.GetProperty("rule").GetString()!,
            RulesCommand.Describe(r.GetProperty("enabled").GetBoolean(), parameters),
            reset,
            r.GetProperty("topic").GetString()!,
            r.GetProperty("partition").GetInt32(),
            r.GetProperty("offset").GetInt64(),
            r.GetProperty("version").GetInt64());
    }

    private static void Print(string rule, string settings, bool reset, string topic, int partition, long offset, long version)
    {
        Console.WriteLine(reset ? $"{rule}: back to its configured settings ({settings})" : $"{rule}: {settings}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published to {topic} (partition {partition}) at offset {offset}: version {version}"));
    }
}
