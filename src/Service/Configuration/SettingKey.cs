using System.Globalization;
using FraudActors.Engine.Configuration;

namespace FraudActors.Service.Configuration;

public enum SettingKind
{
    Text,
    Choice,
    Duration,
    PositiveInt,
    Port,
}

/// <summary>
/// One setting readable three ways: a command-line option, a <c>FRAUD_*</c> environment variable
/// and a HOCON key. The names here are the public contract of docs/design.md, section 6.
/// </summary>
public sealed record SettingKey(string Option, string Path, SettingKind Kind, string Description, params string[] Choices)
{
    /// <summary>Read from its environment variable and HOCON only, never from the command line (a secret would show in the process list).</summary>
    public bool EnvironmentOnly { get; init; }

    public string EnvironmentVariable => "FRAUD_" + Option.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    /// <summary>Checks a raw value; returns it as a HOCON value, or throws naming the option and the source.</summary>
    public string ToHocon(string raw, string source)
    {
        string Fail(string what) => throw new ConfigurationException($"{Option}: '{raw}' {what} (from {source})");
        return Kind switch
        {
            SettingKind.Text => string.IsNullOrWhiteSpace(raw) && Path != SettingKeys.Connection.Path ? Fail("is empty") : Quote(raw),
            SettingKind.Choice => Choices.Contains(raw, StringComparer.Ordinal) ? Quote(raw) : Fail($"is not one of {string.Join(", ", Choices)}"),
            SettingKind.Duration => Durations.TryParse(raw, out var d) && d > TimeSpan.Zero ? Quote(raw) : Fail($"is not a positive duration; {Durations.Hint}"),
            SettingKind.PositiveInt => int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? raw : Fail("is not a positive whole number"),
            SettingKind.Port => int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 65535 ? raw : Fail("is not a port number (0-65535)"),
            _ => throw new ArgumentOutOfRangeException(nameof(raw)),
        };
    }

    private static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

public static class SettingKeys
{
    public static readonly SettingKey Bootstrap = new("--bootstrap", "fraud.bootstrap", SettingKind.Text, "Kafka bootstrap servers, host:port[,host:port...]");
    public static readonly SettingKey Group = new("--group", "fraud.group-id", SettingKind.Text, "Kafka consumer group of the service");
    public static readonly SettingKey TransactionsTopic = new("--topic", "fraud.topics.transactions", SettingKind.Text, "topic the transactions are read from");
    public static readonly SettingKey AlertsTopic = new("--alerts-topic", "fraud.topics.alerts", SettingKind.Text, "topic the alerts are written to");
    public static readonly SettingKey DlqTopic = new("--dlq-topic", "fraud.topics.dlq", SettingKind.Text, "dead-letter topic for records that fail parsing or validation");
    public static readonly SettingKey Store = new("--store", "fraud.store", SettingKind.Choice, "where users' state, checkpoints and alerts are kept (default sqlite, in --store-path; memory: a crash loses them)", "memory", "sqlite", "postgres");
    public static readonly SettingKey Connection = new("--connection", "fraud.connection", SettingKind.Text, "database connection string for --store sqlite|postgres (sqlite without it: the file --store-path)");
    public static readonly SettingKey StorePath = new("--store-path", "fraud.store.path", SettingKind.Text, "SQLite file of --store sqlite when no --connection is given, relative to the working directory (default fraud-state.db)");
    public static readonly SettingKey Http = new("--http", "fraud.http", SettingKind.Text, "host:port of the HTTP API and dashboard (port 0: any free port)");
    public static readonly SettingKey ReadToken = new("--read-token", "fraud.http-read-token", SettingKind.Text, "bearer token every HTTP route but /healthz and /readyz needs (the admin token also passes; none: reads are open)");
    public static readonly SettingKey AdminToken = new("--admin-token", "fraud.http-admin-token", SettingKind.Text, "bearer token the HTTP API's admin calls need (none: admin calls are refused)");
    public static readonly SettingKey CheckpointInterval = new("--checkpoint-interval", "fraud.checkpoint.interval", SettingKind.Duration, "time between checkpoints (e.g. 10s)");
    public static readonly SettingKey Parallelism = new("--parallelism", "fraud.ingest.parallelism", SettingKind.PositiveInt, "records in flight between Kafka and the user actors");
    public static readonly SettingKey WindowCountsTopic = new("--window-counts-topic", "fraud.topics.window-counts", SettingKind.Text, "topic the tumbling, sliding and count window results are written to");
    public static readonly SettingKey SessionsTopic = new("--sessions-topic", "fraud.topics.sessions", SettingKind.Text, "topic the session window results are written to");
    public static readonly SettingKey RulesTopic = new("--rules-topic", "fraud.topics.rules", SettingKind.Text, "compacted topic of the rules' settings, read whole at start and followed after (key = rule name)");
    public static readonly SettingKey RulesDlqTopic = new("--rules-dlq-topic", "fraud.topics.rules-dlq", SettingKind.Text, "topic the records of the rules topic that fail validation go to, with the reason");
    public static readonly SettingKey LateTopic = new("--late-topic", "fraud.topics.late", SettingKind.Text, "topic of the late side output (when fraud.time.late-topic-enabled)");
    public static readonly SettingKey TimeCharacteristic = new("--time", "fraud.time.characteristic", SettingKind.Choice, "which clock rules, timers and windows follow", "event-time", "processing-time");
    public static readonly SettingKey OutOfOrderness = new("--out-of-orderness", "fraud.time.out-of-orderness", SettingKind.Duration, "how far behind the newest ts a record may arrive and still be in time (watermark bound)");
    public static readonly SettingKey IdleTimeout = new("--idle-timeout", "fraud.time.idle-timeout", SettingKind.Text, "after this long without records a partition's watermark follows the clock (off: never)");
    public static readonly SettingKey NodeHostname = new("--node-hostname", "fraud.node.hostname", SettingKind.Text, "address other cluster nodes reach this one at");
    public static readonly SettingKey SeedNodes = new("--seed-nodes", "fraud.node.seed-nodes", SettingKind.Text, "cluster nodes to join, HOST:PORT[,HOST:PORT...] (empty: a cluster of one)");
    public static readonly SettingKey ShardAllocation = new("--shard-allocation", "fraud.node.shard-allocation", SettingKind.Choice, "where users run: with the node reading their partition (partition), or spread by a hash of the user id (hash, for comparison)", ShardPlacement.Partition, ShardPlacement.Hash);
    public static readonly SettingKey NodeTlsCertificate = new("--node-tls-certificate", "fraud.node.tls.certificate", SettingKind.Text, "PKCS#12 file (certificate and key) this node presents to the others: remoting speaks mutual TLS (needs --node-tls-ca)");
    public static readonly SettingKey NodeTlsCa = new("--node-tls-ca", "fraud.node.tls.ca", SettingKind.Text, "PEM file of the CA every node's certificate must chain to: a peer without such a certificate never becomes a member");
    public static readonly SettingKey NodeTlsPassword = new("--node-tls-password", "fraud.node.tls.password", SettingKind.Text, "password of the --node-tls-certificate file") { EnvironmentOnly = true };
    public static readonly SettingKey OutboxTransactional = new("--outbox-transactional", "fraud.outbox.transactional", SettingKind.Choice, "publish the outboxes as Kafka transactions of the job's transactional ids, so that a real broker fences a zombie publisher's batch in flight (read alerts with read_committed)", "on", "off");
    public static readonly SettingKey NodePort = new("--node-port", "fraud.node.port", SettingKind.Port, "Akka cluster port of this node (0 = any free port)");
}
