using FraudActors.Engine.Kafka;
using FraudActors.Engine.Rescaling;
using FraudActors.Service.Producing;
using FraudActors.Testkit;

namespace FraudActors.Service.Tests.Producing;

/// <summary>Which partitioner <c>fraud produce</c> uses, so the README can tell <c>fraud rescale</c>'s users: librdkafka's crc32.</summary>
public sealed class ProducerPartitioningTests
{
    [Fact]
    public async Task Our_producer_places_each_user_as_crc32_does_and_not_as_murmur2()
    {
        using var broker = KafkaTestTopics.StartBroker(("transactions", 6));
        var users = Enumerable.Range(0, 200).Select(i => $"u{i}").ToList();
        var records = users.Select(u => ((string?)u, System.Text.Encoding.UTF8.GetBytes($"{{\"user_id\":\"{u}\"}}")));

        await TransactionProducer.RunAsync(broker.BootstrapServers, "transactions", records, 1000, maxSpeed: true, progress: null, CancellationToken.None);

        var landed = TopicReader.ReadAll(broker.BootstrapServers, "transactions", TimeSpan.FromSeconds(60))
            .ToDictionary(r => System.Text.Encoding.UTF8.GetString(r.Message.Key!), r => r.Partition.Value);
        Assert.Equal(users.Count, landed.Count);
        Assert.All(users, u => Assert.Equal(ProducerPartitioner.Crc32.PartitionOf(u, 6), landed[u]));
        Assert.Contains(users, u => ProducerPartitioner.Murmur2.PartitionOf(u, 6) != landed[u]);
    }
}
