using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FraudActors.Service.Configuration;
using FraudActors.Service.Http;
using FraudActors.Service.Rules;
using FraudActors.Testkit;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud rules list</c>: with <c>--http</c>, a node's <c>GET /rules</c> (the desired rules and
/// those in force per partition, with since when); otherwise the rules topic read whole from
/// Kafka, over the local configuration, as a node reads it at start.
/// </summary>
public static class RulesListCommand
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("list", "Print the rules: a node's (desired, and in force per partition) with --http, or the rules topic's over the local configuration with --bootstrap.");
        var options = new CommandOptions(command, SettingKeys.Bootstrap, SettingKeys.RulesTopic);
        var http = RulesCommand.HttpOption("print its GET /rules instead of reading the topic");
        var token = RulesCommand.TokenOption("with --http: the node's read token or admin token (default: $FRAUD_READ_TOKEN, else $FRAUD_ADMIN_TOKEN)");
        var json = new Option<bool>("--json") { Description = "print JSON (with --http: the API's answer as it came)" };
        command.Options.Add(http);
        command.Options.Add(token);
        command.Options.Add(json);

        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            RulesCommand.RequireOneWay(parse, options, http);
            if (parse.GetValue(http) is { } address)
            {
                using var client = new NodeApiClient(NodeApiClient.ParseAddress(address), RulesCommand.Token(parse, token, "FRAUD_READ_TOKEN", "FRAUD_ADMIN_TOKEN"));
                var body = await client.SendAsync(HttpMethod.Get, "rules", null, stop).ConfigureAwait(false);
                Console.WriteLine(parse.GetValue(json) ? body : NodeTable(body));
                return ExitCodes.Success;
            }

            var settings = options.Settings(parse);
            LibRdKafka.EnsureLoaded();
            KafkaClientConfigs.Validate(settings);
            var configured = settings.Rules.Set ?? throw new InvalidOperationException("configured rules without their specs");
            var contents = await Task.Run(() => RulesTopicContents.Read(settings, configured, ReadTimeout), stop).ConfigureAwait(false);
            Console.WriteLine(parse.GetValue(json) ? TopicJson(settings.Topics.Rules, contents) : TopicTable(settings.Topics.Rules, settings.Bootstrap, contents));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>GET /rules as a table: the desired rules first, then each partition's rules in force.</summary>
    private static string NodeTable(string body)
    {
        using var doc = JsonDocument.Parse(body);
        var rows = new List<string[]> { new[] { "partition", "rule", "enabled", "version", "since offset", "since epoch", "params" } };
        foreach (var rule in doc.RootElement.GetProperty("desired").EnumerateArray())
        {
            rows.Add(["desired", Text(rule, "rule"), OnOff(rule), Text(rule, "version"), string.Empty, string.Empty, Params(rule)]);
        }

        foreach (var partition in doc.RootElement.GetProperty("partitions").EnumerateArray())
        {
            foreach (var rule in partition.GetProperty("rules").EnumerateArray())
            {
                var epoch = rule.GetProperty("since_epoch");
                rows.Add([
                    Text(partition, "partition"), Text(rule, "rule"), OnOff(rule), Text(rule, "version"), Text(rule, "since_offset"),
                    epoch.ValueKind == JsonValueKind.Null ? "not recorded" : epoch.GetRawText(), Params(rule)]);
            }
        }

        return Table(rows);
    }

    private static string TopicTable(string topic, string bootstrap, RulesTopicContents contents)
    {
        var rows = new List<string[]> { new[] { "rule", "enabled", "version", "params" } };
        rows.AddRange(contents.Desired.Specs.Select(s => new[]
        {
            s.Name, s.Enabled ? "on" : "off", s.Version.ToString(CultureInfo.InvariantCulture), string.Join(" ", s.Params.Select(p => $"{p.Key}={p.Value}")),
        }));
        var lines = new List<string>
        {
            contents.TopicExists
                ? $"rules topic '{topic}' at {bootstrap}: {contents.Records} records, {contents.Refused.Count} refused (version 0: as configured here)"
                : $"rules topic '{topic}' at {bootstrap} does not exist: every rule as configured here (README, \"Dynamic rules\", to create it)",
            Table(rows),
        };
        lines.AddRange(contents.Refused.Select(r => string.Create(
            CultureInfo.InvariantCulture,
            $"refused: partition {r.Partition} offset {r.Offset} key {(r.Key is null ? "(none)" : $"'{r.Key}'")}: {r.Reason}")));
        return string.Join(Environment.NewLine, lines);
    }

    private static string TopicJson(string topic, RulesTopicContents contents) => JsonSerializer.Serialize(
        new
        {
            Topic = topic,
            contents.TopicExists,
            contents.Records,
            Desired = contents.Desired.Specs.Select(RuleView.Of).ToList(),
            contents.Refused,
        },
        Json);

    private static string Text(JsonElement e, string name) => e.GetProperty(name) is { ValueKind: JsonValueKind.String } s ? s.GetString()! : e.GetProperty(name).GetRawText();

    private static string OnOff(JsonElement rule) => rule.GetProperty("enabled").GetBoolean() ? "on" : "off";

    private static string Params(JsonElement rule) =>
        string.Join(" ", rule.GetProperty("params").EnumerateObject().Select(p => $"{p.Name}={(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}"));

    /// <summary>Columns padded to their widest cell, the last one as it is.</summary>
    private static string Table(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        return string.Join(Environment.NewLine, rows.Select(r => string.Join("  ", r.Select((cell, c) => c == r.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd()));
    }
}
