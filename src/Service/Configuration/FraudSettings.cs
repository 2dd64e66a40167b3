using System.Globalization;
using Akka.Configuration;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Configuration;
using FraudActors.Engine.Rules;
using FraudActors.Engine.State;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Transactions;

namespace FraudActors.Service.Configuration;

/// <summary>The topics of docs/design.md, section 2; window results and the late side output have their own.</summary>
public sealed record TopicNames(
    string Transactions,
    string Alerts,
    string DeadLetters,
    string WindowCounts = "user-window-counts",
    string Sessions = "user-sessions",
    string Late = "transactions.late",
    string Rules = "rules",
    string RulesDlq = "rules.dlq");

public sealed record IngestSettings(int Parallelism, TimeSpan AskTimeout, int MaxRecordBytes)
{
    /// <summary>Event times a record may carry (<c>fraud.ingest.earliest-ts</c>, <c>fraud.ingest.max-ts-ahead</c>).</summary>
    public TimestampBounds Timestamps { get; init; } = TimestampBounds.Default;

    /// <summary>How long a user remembers a <c>tx_id</c> (<c>fraud.ingest.dedup-window</c>); null: off.</summary>
    public TimeSpan? DedupWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Amounts beyond ± this are <c>invalid-amount</c> (<c>fraud.ingest.max-abs-amount</c>).</summary>
    public decimal MaxAbsAmount { get; init; } = TransactionParser.DefaultMaxAbsAmount;
}

/// <summary>Where the user shards run (<c>--shard-allocation</c>).</summary>
public static class ShardPlacement
{
    /// <summary>Shard = Kafka partition, on the node whose consumer reads it: records, users and journal stay on one node.</summary>
    public const string Partition = "partition";

    /// <summary>Shards by a hash of the user id, spread evenly over the nodes: the plain sharding to compare with.</summary>
    public const string Hash = "hash";
}

/// <param name="SeedNodes">The cluster nodes to join (host, port); empty: the node forms a cluster of its own.</param>
public sealed record NodeSettings(string Hostname, int Port, IReadOnlyList<(string Host, int Port)> SeedNodes)
{
    /// <summary>One of <see cref="ShardPlacement"/>.</summary>
    public string ShardAllocation { get; init; } = ShardPlacement.Partition;

    /// <summary>Mutual TLS for remoting (<c>fraud.node.tls.*</c>); null: plain TCP.</summary>
    public NodeTlsSettings? Tls { get; init; }

    public NodeSettings(string hostname, int port)
        : this(hostname, port, [])
    {
    }

    /// <summary>Parses <c>HOST:PORT[,HOST:PORT…]</c>; a bad entry fails naming --seed-nodes.</summary>
    public static IReadOnlyList<(string Host, int Port)> ParseSeeds(string text)
    {
        var seeds = new List<(string, int)>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
                || Uri.CheckHostName(entry[..colon]) == UriHostNameType.Unknown)
            {
                throw new ConfigurationException($"--seed-nodes: '{entry}' is not HOST:PORT with a port from 1 to 65535 (e.g. fraud-1:4053,fraud-2:4053)");
            }

            seeds.Add((entry[..colon], port));
        }

        return seeds;
    }
}

/// <summary>
/// Remoting's mutual TLS: this node's PKCS#12 certificate with its key, its password, and the PEM
/// of the CA that every peer's certificate must chain to (docs/design.md, "Security").
/// </summary>
public sealed record NodeTlsSettings(string Certificate, string Password, string Ca)
{
    public override string ToString() => $"NodeTlsSettings {{ Certificate = {Certificate}, Ca = {Ca} }}";

    /// <summary>Both files or neither: a certificate without the CA to check peers against (or the reverse) is a mistake, not half a setting.</summary>
    public static NodeTlsSettings? From(Config config)
    {
        var certificate = config.GetString(SettingKeys.NodeTlsCertificate.Path, string.Empty) ?? string.Empty;
        var ca = config.GetString(SettingKeys.NodeTlsCa.Path, string.Empty) ?? string.Empty;
        if (certificate.Length == 0 && ca.Length == 0)
        {
            return null;
        }

        if (certificate.Length == 0 || ca.Length == 0)
        {
            var (missing, given) = certificate.Length == 0 ? (SettingKeys.NodeTlsCertificate, SettingKeys.NodeTlsCa) : (SettingKeys.NodeTlsCa, SettingKeys.NodeTlsCertificate);
            throw new ConfigurationException($"{missing.Option} ({missing.EnvironmentVariable}, {missing.Path}): needed with {given.Option}: remoting's mutual TLS takes this node's certificate and the CA its peers' certificates chain to");
        }

        return new NodeTlsSettings(Path.GetFullPath(certificate), config.GetString(SettingKeys.NodeTlsPassword.Path, string.Empty) ?? string.Empty, Path.GetFullPath(ca));
    }
}

/// <summary>The HTTP API's admin token; its text never appears in logs or in a printed settings record.</summary>
public sealed record AdminToken(string Value)
{
    public override string ToString() => "(set)";
}

/// <summary>The HTTP API's read token; its text never appears in logs or in a printed settings record.</summary>
public sealed record ReadToken(string Value)
{
    public override string ToString() => "(set)";
}

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
    TimeSettings Time,
    WindowSettings Windows,
    StateTtl? StateTtl,
    bool PublishLate,
    NodeSettings Node,
    IReadOnlyDictionary<string, string> KafkaConsumer,
    IReadOnlyDictionary<string, string> KafkaProducer,
    Config Hocon)
{
    /// <summary>The bearer token of admin calls; null: none configured, admin calls are refused.</summary>
    public AdminToken? AdminToken { get; init; }

    /// <summary>
    /// The outboxes publish as Kafka transactions with the job's transactional ids
    /// (<c>fraud.outbox.transactional</c>): a real broker then fences a zombie publisher's batch in
    /// flight. Off by default: transaction markers take offsets, which readers that count offsets
    /// as records miscount, and the dev broker accepts transactions without fencing.
    /// </summary>
    public bool TransactionalOutbox { get; init; }

    /// <summary>The bearer token every read of the HTTP API needs (the admin token also passes); null: reads are open.</summary>
    public ReadToken? ReadToken { get; init; }

    /// <summary>The SQLite file of the sqlite store when no connection string names one (<c>fraud.store.path</c>), as a full path.</summary>
    public string StorePath { get; init; } = Path.GetFullPath("fraud-state.db");

    /// <summary>librdkafka properties every Kafka client gets (<c>fraud.kafka.common</c>): security settings.</summary>
    public IReadOnlyDictionary<string, string> KafkaCommon { get; init; } = new Dictionary<string, string>();

    public static FraudSettings From(Config config)
    {
        var reader = new Reader(config);
        var settings = new FraudSettings(
            Bootstrap: reader.Text(SettingKeys.Bootstrap.Path),
            GroupId: reader.Text(SettingKeys.Group.Path),
            Topics: new TopicNames(
                reader.Text(SettingKeys.TransactionsTopic.Path),
                reader.Text(SettingKeys.AlertsTopic.Path),
                reader.Text(SettingKeys.DlqTopic.Path),
                reader.Text(SettingKeys.WindowCountsTopic.Path),
                reader.Text(SettingKeys.SessionsTopic.Path),
                reader.Text(SettingKeys.LateTopic.Path),
                reader.Text(SettingKeys.RulesTopic.Path),
                reader.Text(SettingKeys.RulesDlqTopic.Path)),
            Store: reader.Choice(SettingKeys.Store, SettingsLoader.StoreKindPath),
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
                reader.PositiveInt("fraud.ingest.max-record-bytes"))
            {
                Timestamps = new TimestampBounds(reader.Time("fraud.ingest.earliest-ts"), reader.DurationOrOff("fraud.ingest.max-ts-ahead")),
                DedupWindow = reader.DurationOrOff("fraud.ingest.dedup-window"),
                MaxAbsAmount = reader.Amount("fraud.ingest.max-abs-amount", TransactionParser.MaxAbsAmountLimit),
            },
            PassivateAfter: reader.Duration("fraud.users.passivate-after"),
            Rules: ReadRules(config),
            Time: new TimeSettings(
                reader.Choice(SettingKeys.TimeCharacteristic) == "processing-time" ? TimeCharacteristic.ProcessingTime : TimeCharacteristic.EventTime,
                new WatermarkSettings(
                    reader.DurationOrZero(SettingKeys.OutOfOrderness.Path),
                    reader.DurationOrOff(SettingKeys.IdleTimeout.Path),
                    reader.DurationOrZero("fraud.time.allowed-lateness")),
                reader.Duration("fraud.time.tick")),
            Windows: new WindowSettings(
                reader.Enabled("fraud.windows.tumbling") ? reader.Duration("fraud.windows.tumbling.size") : null,
                reader.Enabled("fraud.windows.sliding") ? reader.Duration("fraud.windows.sliding.size") : null,
                reader.Enabled("fraud.windows.sliding") ? reader.Duration("fraud.windows.sliding.slide") : null,
                reader.Enabled("fraud.windows.session") ? reader.Duration("fraud.windows.session.gap") : null,
                reader.Enabled("fraud.windows.count") ? reader.PositiveInt("fraud.windows.count.size") : null,
                reader.DurationOrZero("fraud.time.allowed-lateness")),
            StateTtl: reader.DurationOrOff("fraud.state.ttl") is { } ttl ? new StateTtl(ttl) : null,
            PublishLate: config.GetBoolean("fraud.time.late-topic-enabled", false),
            Node: new NodeSettings(
                reader.Text(SettingKeys.NodeHostname.Path),
                reader.Port(SettingKeys.NodePort.Path),
                NodeSettings.ParseSeeds(config.GetString(SettingKeys.SeedNodes.Path, string.Empty) ?? string.Empty))
            {
                ShardAllocation = reader.Choice(SettingKeys.ShardAllocation),
                Tls = NodeTlsSettings.From(config),
            },
            KafkaConsumer: ClientProperties(config, "fraud.kafka.consumer"),
            KafkaProducer: ClientProperties(config, "fraud.kafka.producer"),
            Hocon: config)
        {
            AdminToken = config.GetString(SettingKeys.AdminToken.Path, string.Empty) is { Length: > 0 } token ? new AdminToken(token) : null,
            ReadToken = config.GetString(SettingKeys.ReadToken.Path, string.Empty) is { Length: > 0 } read ? new ReadToken(read) : null,
            TransactionalOutbox = config.GetBoolean(SettingKeys.OutboxTransactional.Path, false),
            KafkaCommon = ClientProperties(config, "fraud.kafka.common"),
            StorePath = Path.GetFullPath(reader.Text(SettingKeys.StorePath.Path)),
        };

        // The state cache's bound is read by the actor system (UserStateStores); a bad one fails here, at start.
        try
        {
            Engine.Checkpoints.Store.UserStateStores.CacheBytes(config);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or Akka.Configuration.ConfigurationException)
        {
            throw new ConfigurationException($"configuration key fraud.state.cache-bytes: '{config.GetString("fraud.state.cache-bytes", string.Empty)}' is not auto or a size (256MiB, 1GiB, bytes)");
        }

        // SQLite without a connection string: the file at fraud.store.path.
        if (settings.Store == JournalStore.Sqlite && string.IsNullOrWhiteSpace(settings.Connection))
        {
            settings = settings with { Connection = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = settings.StorePath }.ConnectionString };
        }

        SettingsChecks.Validate(settings);
        return settings;
    }

    /// <summary>
    /// What a log line or a debugger may show: the connection string without its password, and
    /// neither the HOCON nor the Kafka properties (they hold SASL/TLS secrets) nor the token.
    /// </summary>
    public override string ToString() =>
        $"FraudSettings {{ Bootstrap = {Bootstrap}, GroupId = {GroupId}, Topics = {Topics}, Store = {Store}, Connection = {DisplayConnection(Connection)}, Http = {Http}, Node = {Node.Hostname}:{Node.Port} }}";

    /// <summary>A connection string with its password replaced by <c>***</c>.</summary>
    public static string DisplayConnection(string connection)
    {
        try
        {
            var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connection };
            foreach (var key in builder.Keys.Cast<string>().Where(k => k.Equals("password", StringComparison.OrdinalIgnoreCase) || k.Equals("pwd", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                builder[key] = "***";
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(not shown)";
        }
    }

    /// <summary>The users' settings: rules, windows, state time-to-live and deduplication.</summary>
    public UserSettings UserSettings => new(Rules, Windows, StateTtl, Ingest.DedupWindow);

    /// <summary>Every known rule under <c>fraud.rules</c>, enabled or not by its <c>enabled</c> key; an unknown name is an error.</summary>
    private static RuleSettings ReadRules(Config config)
    {
        if (config.HasPath("fraud.rules"))
        {
            var unknown = config.GetConfig("fraud.rules").AsEnumerable()
                .Select(p => p.Key.Split('.')[0].Trim('"'))
                .Distinct(StringComparer.Ordinal)
                .Where(name => RuleCatalog.Known.All(r => r.Name != name))
                .ToList();
            if (unknown.Count > 0)
            {
                throw new ConfigurationException($"configuration key fraud.rules.{unknown[0]}: no rule is called '{unknown[0]}'; known: {string.Join(", ", RuleCatalog.Known.Select(r => r.Name))}");
            }
        }

        try
        {
            return RuleCatalog.Create(name => RuleConfig.FromHocon(name, config));
        }
        catch (Akka.Configuration.ConfigurationException e)
        {
            throw new ConfigurationException(e.Message);
        }
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

        /// <param name="path">Where the value is read when not at the key's own path.</param>
        public string Choice(SettingKey key, string? path = null)
        {
            var value = Raw(path ?? key.Path);
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

        /// <summary>A duration, or null for <c>off</c>.</summary>
        public TimeSpan? DurationOrOff(string path)
        {
            var value = Raw(path);
            if (value is "off" or "none" or "never")
            {
                return null;
            }

            return Durations.TryParse(value, out var d) && d > TimeSpan.Zero ? d : throw Bad(path, value, $"is not a positive duration or off; {Durations.Hint}");
        }

        /// <summary>The <c>enabled</c> flag of a section.</summary>
        public bool Enabled(string section)
        {
            var value = Raw(section + ".enabled");
            return value.ToLowerInvariant() switch
            {
                "on" or "true" or "yes" => true,
                "off" or "false" or "no" => false,
                _ => throw Bad(section + ".enabled", value, "is not on or off"),
            };
        }

        /// <summary>An ISO 8601 time with its offset, e.g. 2000-01-01T00:00:00Z.</summary>
        public DateTimeOffset Time(string path)
        {
            var value = Raw(path);
            return TransactionParser.TryParseZonedTime(value, out var t)
                ? t
                : throw Bad(path, value, "is not an ISO 8601 time with an offset, e.g. 2000-01-01T00:00:00Z");
        }

        /// <summary>A positive number up to <paramref name="limit"/>, e.g. 1000000000 or 1e9.</summary>
        public decimal Amount(string path, decimal limit)
        {
            var value = Raw(path);
            return decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 && d <= limit
                ? d
                : throw Bad(path, value, $"is not a positive number up to {limit.ToString(CultureInfo.InvariantCulture)} (larger amounts could overflow the sums the service keeps)");
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
