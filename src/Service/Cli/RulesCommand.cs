using System.CommandLine;
using FraudActors.Messages.Rules;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud rules list|set</c>: the rules' settings as the rules topic sets them, read and changed
/// through a node's HTTP API or the topic itself (docs/design.md, "Dynamic rules").
/// </summary>
public static class RulesCommand
{
    public static Command Create() =>
        new("rules", "Show and change the rules' settings at run time: the compacted rules topic, through a node's HTTP API (--http) or Kafka (--bootstrap).")
        {
            RulesListCommand.Create(),
            RulesSetCommand.Create(),
        };

    /// <summary><c>--http URL</c>: ask a node's HTTP API instead of Kafka.</summary>
    internal static Option<string?> HttpOption(string what) => new("--http") { Description = $"a node's HTTP API, http://host:port: {what}" };

    /// <summary><c>--token T</c>, else the environment's token (which keeps it out of the process list).</summary>
    internal static Option<string?> TokenOption(string what) => new("--token") { Description = what };

    /// <summary>Exactly one way to reach the rules: a node's API or Kafka.</summary>
    internal static void RequireOneWay(ParseResult parse, CommandOptions options, Option<string?> http)
    {
        if (parse.GetValue(http) is not null && options.WasGiven(parse, SettingKeys.Bootstrap))
        {
            throw new ConfigurationException("--http/--bootstrap: give one: a node's HTTP API (--http) or Kafka (--bootstrap)");
        }
    }

    /// <summary>The token given, else the first of <paramref name="variables"/> set.</summary>
    internal static string? Token(ParseResult parse, Option<string?> token, params string[] variables) =>
        parse.GetValue(token) ?? variables.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    /// <summary>A rule's settings on one line: <c>on, threshold=3, window=60s</c>.</summary>
    internal static string Describe(bool enabled, IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join(", ", parameters.Select(p => $"{p.Key}={p.Value}").Prepend(enabled ? "on" : "off"));

    internal static string Describe(RuleSpec spec) => Describe(spec.Enabled, spec.Params);
}
