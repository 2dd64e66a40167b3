using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Kafka;

/// <summary>The dev broker's fault controls (librdkafka's mock API), each seen by a real client.</summary>
public sealed class DevBrokerFaultTests : IDisposable
{
    private const string Topic = "faults";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Topic, 3));

    [Fact]
    public async Task Retriable_errors_pushed_onto_the_leader_are_retried_and_the_record_lands_once()
    {
        var leader = _broker.PartitionLeaders(Topic, Timeout)[0];
        _broker.PushBrokerRequestErrors(leader, KafkaApiKey.Produce, TimeSpan.Zero, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas);
        Assert.Equal(3, _broker.PendingBrokerRequestErrors(leader, KafkaApiKey.Produce));

        using var producer = Producer();
        var delivered = await producer.ProduceAsync(new TopicPartition(Topic, 0), Message("once"));

        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        Assert.Equal(0, _broker.PendingBrokerRequestErrors(leader, KafkaApiKey.Produce));
        Assert.Equal(["once"], Values());
    }

    [Fact]
    public async Task A_cluster_wide_error_fails_the_next_request_of_its_kind_only()
    {
        _broker.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.MsgSizeTooLarge);
        using var producer = Producer();

        var refused = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync(new TopicPartition(Topic, 1), Message("refused")));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
        await producer.ProduceAsync(new TopicPartition(Topic, 1), Message("accepted"));

        Assert.Equal(["accepted"], Values());
    }

    [Fact]
    public void Cleared_errors_fail_no_request()
    {
        _broker.PushRequestErrors(KafkaApiKey.Metadata, ErrorCode.BrokerNotAvailable, ErrorCode.BrokerNotAvailable);
        _broker.ClearRequestErrors(KafkaApiKey.Metadata);

        // A metadata request with no retry left: it would report the error, were it still pushed.
        Assert.Equal(3, _broker.PartitionLeaders(Topic, Timeout).Count);
    }

    [Fact]
    public async Task A_partition_leader_moves_and_clients_follow_it()
    {
        var before = _broker.PartitionLeaders(Topic, Timeout)[2];
        using var producer = Producer();
        await producer.ProduceAsync(new TopicPartition(Topic, 2), Message("before"));

        var next = _broker.BrokerIds.First(id => id != before);
        _broker.SetPartitionLeader(Topic, 2, next);
        await producer.ProduceAsync(new TopicPartition(Topic, 2), Message("after"));

        Assert.Equal(next, _broker.PartitionLeaders(Topic, Timeout)[2]);
        Assert.Equal(["before", "after"], Values());
    }

    [Fact]
    public async Task A_down_broker_refuses_its_partition_until_it_is_up_again()
    {
        var leader = _broker.PartitionLeaders(Topic, Timeout)[0];
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            EnableIdempotence = true,
            MessageTimeoutMs = 2000,
        }).Build();
        await producer.ProduceAsync(new TopicPartition(Topic, 0), Message("up"));

        _broker.SetBrokerDown(leader);
        var refused = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync(new TopicPartition(Topic, 0), Message("down")));
        Assert.Equal(ErrorCode.Local_MsgTimedOut, refused.Error.Code);

        _broker.SetBrokerUp(leader);
        await producer.ProduceAsync(new TopicPartition(Topic, 0), Message("up again"));
        Assert.Equal(["up", "up again"], Values());
    }

    [Fact]
    public void The_group_coordinator_is_the_broker_chosen_and_its_commits_fail_as_pushed()
    {
        const string group = "chosen";
        _broker.SetGroupCoordinator(group, 2);
        _broker.PushBrokerRequestErrors(2, KafkaApiKey.OffsetCommit, TimeSpan.Zero, ErrorCode.GroupAuthorizationFailed);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _broker.BootstrapServers, GroupId = group }).Build();
        var offset = new TopicPartitionOffset(Topic, 1, 7);

        var refused = Assert.Throws<KafkaException>(() => consumer.Commit([offset]));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, refused.Error.Code);
        Assert.Equal(0, _broker.PendingBrokerRequestErrors(2, KafkaApiKey.OffsetCommit));
        consumer.Commit([offset]);

        Assert.Equal(7, KafkaTestTopics.CommittedOffsets(_broker.BootstrapServers, group, Topic, 3, Timeout)[1]);
    }

    [Fact]
    public void Controls_naming_no_broker_fail_with_the_broker_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _broker.SetBrokerDown(42));
        Assert.Contains("no broker 42; its brokers are 1, 2, 3", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => _broker.SetPartitionLeader(Topic, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => _broker.PushBrokerRequestErrors(0, KafkaApiKey.Fetch, TimeSpan.Zero, ErrorCode.RequestTimedOut));
        Assert.Equal("NOT_LEADER_FOR_PARTITION", DevBroker.ErrorName(ErrorCode.NotLeaderForPartition));
    }

    public void Dispose() => _broker.Dispose();

    private IProducer<byte[]?, byte[]> Producer() => new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
    {
        BootstrapServers = _broker.BootstrapServers,
        EnableIdempotence = true,
        Acks = Acks.All,
    }).Build();

    private static Message<byte[]?, byte[]> Message(string value) => new() { Value = Encoding.UTF8.GetBytes(value) };

    private List<string> Values() =>
        [.. KafkaTestTopics.ReadAll(_broker.BootstrapServers, Topic, Timeout).OrderBy(r => r.Offset.Value).Select(r => Encoding.UTF8.GetString(r.Message.Value))];
}
