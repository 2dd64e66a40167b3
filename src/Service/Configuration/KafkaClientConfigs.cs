using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace FraudActors.Service.Configuration;

/// <summary>
/// The librdkafka settings of every Kafka client the service makes: <c>fraud.kafka.common</c>
/// (security: <c>security.protocol</c>, <c>ssl.*</c>, <c>sasl.*</c>) for all of them, then
/// <c>fraud.kafka.consumer</c> or <c>fraud.kafka.producer</c> over it, then what the service
/// itself needs (bootstrap, group, idempotence), which no passthrough may change.
/// </summary>
public static partial class KafkaClientConfigs
{
    public const string CommonPath = "fraud.kafka.common";
    public const string ConsumerPath = "fraud.kafka.consumer";
    public const string ProducerPath = "fraud.kafka.producer";

    /// <summary>Common, then consumer properties: for consumers that only read (offsets, tails, <c>fraud alerts</c>).</summary>
    public static Dictionary<string, string> ConsumerProperties(FraudSettings settings) => Merge(settings.KafkaCommon, settings.KafkaConsumer);

    /// <summary>Common, then producer properties.</summary>
    public static Dictionary<string, string> ProducerProperties(FraudSettings settings) => Merge(settings.KafkaCommon, settings.KafkaProducer);

    /// <summary>The consumer of a node's ingest stream.</summary>
    public static ConsumerConfig NodeConsumer(FraudSettings settings) => new(ConsumerProperties(settings))
    {
        BootstrapServers = settings.Bootstrap,
        GroupId = settings.GroupId,
        ClientId = "fraud-node",
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = true,
        // Offsets are stored only when a checkpoint commits; librdkafka sends them soon after.
        AutoCommitIntervalMs = 1000,
        EnablePartitionEof = false,
    };

    /// <summary>A node's producer: alerts, window results, dead letters and late records.</summary>
    public static ProducerConfig NodeProducer(FraudSettings settings)
    {
        var properties = ProducerProperties(settings);
        var config = new ProducerConfig(properties)
        {
            BootstrapServers = settings.Bootstrap,
            ClientId = "fraud-node",
            EnableIdempotence = true,
            Acks = Acks.All,
        };
        if (!properties.ContainsKey("linger.ms") && !properties.ContainsKey("queue.buffering.max.ms"))
        {
            // The outboxes produce a whole batch of rows at once and wait for it: a linger would
            // only add its length to every alert's latency (docs/benchmarks.md, "Alert latency").
            config.LingerMs = 0;
        }

        return config;
    }

    /// <summary>
    /// Creates each kind of client once, unconnected (no bootstrap servers), so that a property
    /// librdkafka does not know or a value it refuses (a missing <c>ssl.ca.location</c> file) stops
    /// the start with a message naming the key, not the first connection later.
    /// </summary>
    public static void Validate(FraudSettings settings)
    {
        Check(settings, ProducerProperties(settings), Producer);
        Check(settings, ConsumerProperties(settings), properties => Consumer(properties, settings.GroupId));
    }

    private static void Producer(Dictionary<string, string> properties) =>
        new ProducerBuilder<byte[], byte[]>(Unconnected(new ProducerConfig(properties))).SetLogHandler((_, _) => { }).Build().Dispose();

    private static void Consumer(Dictionary<string, string> properties, string group) =>
        new ConsumerBuilder<byte[], byte[]>(Unconnected(new ConsumerConfig(properties) { GroupId = group })).SetLogHandler((_, _) => { }).Build().Dispose();

    private static T Unconnected<T>(T config)
        where T : ClientConfig
    {
        config.BootstrapServers = string.Empty;
        return config;
    }

    /// <summary>
    /// Builds the client; if librdkafka refuses, finds the key: the property its message names,
    /// else (it names an alias, e.g. linger.ms as queue.buffering.max.ms) the one refused alone.
    /// </summary>
    private static void Check(FraudSettings settings, Dictionary<string, string> properties, Action<Dictionary<string, string>> build)
    {
        if (Refusal(properties, build) is not { } refused)
        {
            return;
        }

        var named = QuotedProperty().Match(refused) is { Success: true } m ? m.Groups[1].Value : null;
        var property = named is not null && properties.ContainsKey(named)
            ? named
            : properties.FirstOrDefault(p => Refusal(new Dictionary<string, string> { [p.Key] = p.Value }, build) is not null).Key;
        var key = property is null
            ? $"{CommonPath}/{ConsumerPath}/{ProducerPath}"
            : (settings.KafkaConsumer.ContainsKey(property) ? ConsumerPath
                : settings.KafkaProducer.ContainsKey(property) ? ProducerPath
                : CommonPath) + $".\"{property}\"";
        throw new ConfigurationException($"configuration key {key}: librdkafka refuses it: {refused}");
    }

    private static string? Refusal(Dictionary<string, string> properties, Action<Dictionary<string, string>> build)
    {
        try
        {
            build(properties);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or KafkaException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    private static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> common, IReadOnlyDictionary<string, string> specific)
    {
        var merged = new Dictionary<string, string>(common, StringComparer.Ordinal);
        foreach (var (key, value) in specific)
        {
            merged[key] = value;
        }

        return merged;
    }

    [GeneratedRegex("property:? \"([^\"]+)\"")]
    private static partial Regex QuotedProperty();
}
