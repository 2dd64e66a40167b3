using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Service.Configuration;
using FraudActors.Testkit;

namespace FraudActors.Service.Tests.Configuration;

/// <summary>
/// Kafka security (TLS, SASL) reaches every client: <c>fraud.kafka.common</c> under each
/// client's own block, the service's own settings over both, and a property librdkafka refuses
/// stops the start naming its key.
/// </summary>
public sealed class KafkaClientConfigsTests
{
    private const string Secure = """
        fraud.kafka.common {
          "security.protocol" = SASL_SSL
          "sasl.mechanism" = PLAIN
          "sasl.username" = fraud
          "sasl.password" = "s3cret-sasl"
          "ssl.endpoint.identification.algorithm" = https
        }
        fraud.kafka.consumer { "session.timeout.ms" = 7000, "sasl.username" = "fraud-reader" }
        fraud.kafka.producer { "linger.ms" = 20, "enable.idempotence" = false }
        """;

    [Fact]
    public void The_node_consumer_and_producer_carry_the_common_security_settings_and_their_own()
    {
        var settings = Load(Secure);

        var consumer = KafkaClientConfigs.NodeConsumer(settings);
        Assert.Equal("SASL_SSL", consumer.Get("security.protocol"));
        Assert.Equal("PLAIN", consumer.Get("sasl.mechanism"));
        Assert.Equal("s3cret-sasl", consumer.SaslPassword);
        Assert.Equal("https", consumer.Get("ssl.endpoint.identification.algorithm"));
        Assert.Equal(7000, consumer.SessionTimeoutMs);

        // A client's own block wins over the common one.
        Assert.Equal("fraud-reader", consumer.SaslUsername);

        // What the service needs is not the passthrough's to change: bootstrap, group, idempotence.
        Assert.Equal(settings.Bootstrap, consumer.BootstrapServers);
        Assert.Equal(settings.GroupId, consumer.GroupId);

        var producer = KafkaClientConfigs.NodeProducer(settings);
        Assert.Equal("SASL_SSL", producer.Get("security.protocol"));
        Assert.Equal("fraud", producer.SaslUsername);
        Assert.Equal("s3cret-sasl", producer.SaslPassword);
        Assert.True(producer.EnableIdempotence);
        Assert.Equal(Acks.All, producer.Acks);
        Assert.Null(producer.Get("session.timeout.ms"));

        // A linger the operator chose is kept; without one the node's producer sends at once.
        Assert.Equal(20, producer.LingerMs);
        Assert.Equal(0, KafkaClientConfigs.NodeProducer(Load(string.Empty)).LingerMs);
    }

    [Fact]
    public void The_other_clients_get_the_security_settings_too()
    {
        var settings = Load(Secure);

        // fraud alerts, the end-offsets consumer: common + consumer.
        var reading = KafkaClientConfigs.ConsumerProperties(settings);
        Assert.Equal("SASL_SSL", reading["security.protocol"]);
        Assert.Equal("s3cret-sasl", reading["sasl.password"]);

        // fraud produce: common + producer.
        var producing = KafkaClientConfigs.ProducerProperties(settings);
        Assert.Equal("SASL_SSL", producing["security.protocol"]);
        Assert.Equal("20", producing["linger.ms"]);

        // The outboxes' tail readers get the common block.
        Assert.Equal("s3cret-sasl", settings.KafkaCommon["sasl.password"]);
    }

    [Fact]
    public void Valid_settings_pass_the_check_at_start()
    {
        LibRdKafka.EnsureLoaded();
        KafkaClientConfigs.Validate(Load("""fraud.kafka.common { "security.protocol" = SASL_PLAINTEXT, "sasl.mechanism" = PLAIN, "sasl.username" = a, "sasl.password" = b }"""));
    }

    [Theory]
    [InlineData("""fraud.kafka.common { "sasl.pasword" = x }""", "fraud.kafka.common.\"sasl.pasword\"")]
    [InlineData("""fraud.kafka.consumer { "security.protocol" = bogus }""", "fraud.kafka.consumer.\"security.protocol\"")]
    [InlineData("""fraud.kafka.producer { "linger.ms" = soon }""", "fraud.kafka.producer.\"linger.ms\"")]
    public void A_property_librdkafka_refuses_names_its_key(string hocon, string key)
    {
        LibRdKafka.EnsureLoaded();
        var e = Assert.Throws<ConfigurationException>(() => KafkaClientConfigs.Validate(Load(hocon)));
        Assert.Contains($"configuration key {key}", e.Message, StringComparison.Ordinal);
    }

    private static FraudSettings Load(string hocon)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, hocon);
        return FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [], file, null, _ => null));
    }
}
