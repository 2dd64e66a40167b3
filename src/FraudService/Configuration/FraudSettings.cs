using Akka.Configuration;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Rules;

namespace FraudActors.FraudService.Configuration;

public sealed record TopicNames(string Transactions, string Alerts, string DeadLetters);

public sealed record IngestSettings(int Parallelism, TimeSpan AskTimeout, int MaxRecordBytes);

public sealed record NodeSettings(string Hostname, int Port);

/// <summary>The service's typed settings, read from the merged HOCON (<see cref="SettingsLoader"/>).</summary>
public sealed record FraudSettings(
    string Bootstrap,
    string GroupId,
    TopicNames Topics,
    string Store,
    string Connection,
    string Http,
    CheckpointSettings Checkpoints,
    IngestSettings Ingest,
    TimeSpan PassivateAfter,
    RuleSettings Rules,
    NodeSettings Node,
    IReadOnlyDictionary<string, string> KafkaConsumer,
    IReadOnlyDictionary<string, string> KafkaProducer,
    Config Hocon)
{
    public static FraudSettings From(Config config)
    {
        var reader = new Reader(config);
        return new FraudSettings(
            Bootstrap: reader.Text(SettingKeys.Bootstrap.Path),
            GroupId: reader.Text(SettingKeys.Group.Path),
            Topics: new TopicNames(
                reader.Text(SettingKeys.TransactionsTopic.Path),
                reader.Text(SettingKeys.AlertsTopic.Path),
                reader.Text(SettingKeys.DlqTopic.Path)),
            Store: reader.Choice(SettingKeys.Store),
            Connection: config.GetString(SettingKeys.Connection.Path, string.Empty),
            Http: reader.Text(SettingKeys.Http.Path),
            Checkpoints: new CheckpointSettings(
                reader.Duration(SettingKeys.CheckpointInterval.Path),
                reader.Duration("fraud.checkpoint.timeout"),
                reader.PositiveInt("fraud.checkpoint.retained"),
                reader.DurationOrZero("fraud.checkpoint.min-pause")),
            Ingest: new IngestSettings(
                reader.PositiveInt(SettingKeys.Parallelism.Path),
                reader.Duration("fraud.ingest.ask-timeout"),
                reader.PositiveInt("fraud.ingest.max-record-bytes")),
            PassivateAfter: reader.Duration("fraud.users.passivate-after"),
            Rules: new RuleSettings(
                config.GetBoolean("fraud.rules.sliding-velocity.enabled", false)
                    ? new VelocitySettings(
                        reader.PositiveInt("fraud.rules.sliding-velocity.threshold"),
                        reader.Duration("fraud.rules.sliding-velocity.window"))
                    : null),
            Node: new NodeSettings(reader.Text("fraud.node.hostname"), reader.Port(SettingKeys.NodePort.Path)),
            KafkaConsumer: ClientProperties(config, "fraud.kafka.consumer"),
            KafkaProducer: ClientProperties(config, "fraud.kafka.producer"),
            Hocon: config);
    }

    private static Dictionary<string, string> ClientProperties(Config config, string path) =>
        config.HasPath(path)
            ? config.GetConfig(path).AsEnumerable().ToDictionary(p => p.Key.Trim('"'), p => p.Value.GetString(), StringComparer.Ordinal)
            : [];

    /// <summary>Reads keys, failing with the key's name when one is missing or malformed.</summary>
    private sealed class Reader(Config config)
    {
        public string Text(string path)
        {
            var value = Raw(path);
            return string.IsNullOrWhiteSpace(value) ? throw Bad(path, value, "must not be empty") : value;
        }

        public string Choice(SettingKey key)
        {
            var value = Raw(key.Path);
            return key.Choices.Contains(value, StringComparer.Ordinal)
                ? value
                : throw Bad(key.Path, value, $"is not one of {string.Join(", ", key.Choices)}");
        }

        public TimeSpan Duration(string path)
        {
            var value = Raw(path);
            return Durations.TryParse(value, out var d) && d > TimeSpan.Zero
                ? d
                : throw Bad(path, value, $"is not a positive duration; {Durations.Hint}");
        }

        public TimeSpan DurationOrZero(string path)
        {
            var value = Raw(path);
            return Durations.TryParse(value, out var d) ? d : throw Bad(path, value, $"is not a duration; {Durations.Hint}");
        }

        public int PositiveInt(string path)
        {
            var value = Raw(path);
            return int.TryParse(value, out var n) && n > 0 ? n : throw Bad(path, value, "is not a positive whole number");
        }

        public int Port(string path)
        {
            var value = Raw(path);
            return int.TryParse(value, out var n) && n is >= 0 and <= 65535 ? n : throw Bad(path, value, "is not a port number");
        }

        private string Raw(string path) =>
            config.HasPath(path) ? config.GetString(path) ?? string.Empty : throw new ConfigurationException($"configuration key {path} is missing");

        private static ConfigurationException Bad(string path, string value, string what) =>
            new($"configuration key {path}: '{value}' {what}");
    }
}
