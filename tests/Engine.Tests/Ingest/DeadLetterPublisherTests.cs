using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Ingest;

/// <summary>The dead-letter topic takes every rejected record, however large its key and value.</summary>
public sealed class DeadLetterPublisherTests : IDisposable
{
    private const string Dlq = "transactions.dlq";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Dlq, 1));

    [Fact]
    public async Task A_one_megabyte_key_and_value_are_cut_with_their_original_sizes_and_fit_a_producer_with_default_limits()
    {
        // Kafka's default producer limit is 1,000,000 bytes: the key and value whole would not fit.
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true }).Build();
        var publisher = new DeadLetterPublisher(producer, Dlq);
        var key = Encoding.UTF8.GetBytes("u1" + new string('k', 1024 * 1024));
        var value = Encoding.UTF8.GetBytes(new string('v', 1024 * 1024));
        await publisher.PublishAsync(new KafkaRecord("transactions", 2, 41, key, value, DateTimeOffset.UnixEpoch), RejectReason.KeyMismatch, "key differs", CancellationToken.None);
        await publisher.PublishAsync(new KafkaRecord("transactions", 2, 42, "u1"u8.ToArray(), "{}"u8.ToArray(), DateTimeOffset.UnixEpoch), RejectReason.InvalidJson, "bad", CancellationToken.None);

        var dead = KafkaTestTopics.ReadAll(_broker.BootstrapServers, Dlq, Timeout);
        Assert.Equal(2, dead.Count);
        var cut = dead[0];
        Assert.Equal(key[..DeadLetterPublisher.MaxForwardedKeyBytes], cut.Message.Key);
        Assert.Equal(key.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Header(DeadLetterPublisher.OriginalKeySizeHeader));
        Assert.Equal(value[..DeadLetterPublisher.MaxForwardedBytes], cut.Message.Value);
        Assert.Equal(value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Header(DeadLetterPublisher.OriginalSizeHeader));
        Assert.Equal("key-mismatch", cut.Header(DeadLetterPublisher.ReasonHeader));

        // A small record goes as it is, without size headers.
        var whole = dead[1];
        Assert.Equal("u1"u8.ToArray(), whole.Message.Key);
        Assert.False(whole.Message.Headers.TryGetLastBytes(DeadLetterPublisher.OriginalKeySizeHeader, out _));
        Assert.False(whole.Message.Headers.TryGetLastBytes(DeadLetterPublisher.OriginalSizeHeader, out _));
    }

    public void Dispose() => _broker.Dispose();
}
