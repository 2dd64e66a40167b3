using System.Globalization;
using System.Text.RegularExpressions;
using FraudActors.Engine.Checkpoints;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FraudActors.Service.Configuration;

/// <summary>
/// The checks <see cref="FraudSettings.From"/> makes across keys and on forms a single value's
/// type does not cover: Kafka's rules for topic names, bootstrap as HOST:PORT, the connection
/// string fitting the store. Every message names the key (and its option where it has one); a
/// connection string is never echoed, it may hold a password.
/// </summary>
public static partial class SettingsChecks
{
    public static void Validate(FraudSettings settings)
    {
        Bootstrap(settings.Bootstrap);
        Topics(settings.Topics);
        Hostname(settings.Node.Hostname);
        Connection(settings.Store, settings.Connection);
    }

    /// <summary><c>HOST:PORT[,HOST:PORT…]</c>, each optionally with librdkafka's <c>PROTOCOL://</c> prefix.</summary>
    private static void Bootstrap(string bootstrap)
    {
        foreach (var entry in bootstrap.Split(',', StringSplitOptions.TrimEntries))
        {
            var address = entry.Contains("://", StringComparison.Ordinal) ? entry[(entry.IndexOf("://", StringComparison.Ordinal) + 3)..] : entry;
            var colon = address.LastIndexOf(':');
            if (colon <= 0
                || !int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
                || Uri.CheckHostName(address[..colon].Trim('[', ']')) == UriHostNameType.Unknown)
            {
                throw Bad(SettingKeys.Bootstrap, $"'{entry}' is not HOST:PORT with a port from 1 to 65535 (e.g. kafka-1:9092,kafka-2:9092)");
            }
        }
    }

    /// <summary>Kafka's own rule: 1 to 249 of letters, digits, '.', '_' and '-', not "." or "..".</summary>
    private static void Topics(TopicNames topics)
    {
        var all = new[]
        {
            (SettingKeys.TransactionsTopic, topics.Transactions), (SettingKeys.AlertsTopic, topics.Alerts), (SettingKeys.DlqTopic, topics.DeadLetters),
            (SettingKeys.WindowCountsTopic, topics.WindowCounts), (SettingKeys.SessionsTopic, topics.Sessions), (SettingKeys.LateTopic, topics.Late),
            (SettingKeys.RulesTopic, topics.Rules), (SettingKeys.RulesDlqTopic, topics.RulesDlq),
        };
        foreach (var (key, name) in all)
        {
            if (!TopicName().IsMatch(name) || name is "." or "..")
            {
                throw Bad(key, $"'{name}' is not a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-'");
            }
        }

        // Output written to the input topic would be read back as transactions.
        foreach (var (key, name) in all.Skip(1))
        {
            if (name == topics.Transactions)
            {
                throw Bad(key, $"'{name}' is also the transactions topic ({SettingKeys.TransactionsTopic.Path}): what the service writes must go elsewhere");
            }
        }
    }

    private static void Hostname(string hostname)
    {
        if (Uri.CheckHostName(hostname) == UriHostNameType.Unknown)
        {
            throw Bad(SettingKeys.NodeHostname, $"'{hostname}' is not a host name or IP address");
        }
    }

    /// <summary>The connection string must be one of the store's kind; its text is not repeated (it may hold a password).</summary>
    private static void Connection(string store, string connection)
    {
        if (string.IsNullOrWhiteSpace(connection) || store == JournalStore.Memory)
        {
            return;
        }

        string? problem;
        try
        {
            problem = store switch
            {
                JournalStore.Sqlite => string.IsNullOrWhiteSpace(new SqliteConnectionStringBuilder(connection).DataSource)
                    ? "names no database file (Data Source=…)"
                    : null,
                JournalStore.Postgres => string.IsNullOrWhiteSpace(new NpgsqlConnectionStringBuilder(connection).Host)
                    ? "names no server (Host=…)"
                    : null,
                _ => null,
            };
        }
        catch (ArgumentException e)
        {
            problem = $"cannot be read ({e.Message})";
        }

        if (problem is not null)
        {
            var example = store == JournalStore.Sqlite ? "\"Data Source=fraud.db\"" : "\"Host=db;Port=5432;Username=fraud;Password=…;Database=fraud\"";
            throw Bad(SettingKeys.Connection, $"not a {store} connection string for {SettingKeys.Store.Path} = {store}: it {problem}; e.g. {example}");
        }
    }

    private static ConfigurationException Bad(SettingKey key, string what) =>
        new($"configuration key {key.Path} ({key.Option}, {key.EnvironmentVariable}): {what}");

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$")]
    private static partial Regex TopicName();
}
