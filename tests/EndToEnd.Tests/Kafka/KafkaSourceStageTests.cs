using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Kafka;

/// <summary>The Kafka source stage against the dev broker.</summary>
public sealed class KafkaSourceStageTests : TestKit, IDisposable
{
    private const string Topic = "events";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Topic, 3));

    [Fact]
    public async Task Partition_assignment_comes_first_then_every_record_once_in_partition_order_under_back_pressure()
    {
        const int count = 600;
        var positions = await KafkaTestTopics.ProduceAsync(
            _broker.BootstrapServers, Topic, Enumerable.Range(0, count).Select(i => ((string?)$"k{i % 17}", $"v{i}")));

        // A downstream slower than the broker: the stage reads only on demand; nothing is lost or read twice.
        var settings = Settings("slow");
        var (control, events) = Source.FromGraph(new KafkaSourceStage(settings))
            .Throttle(300, TimeSpan.FromSeconds(1), 1, ThrottleMode.Shaping)
            .Take(count + 1)
            .ToMaterialized(Sink.Seq<SourceEvent>(), Keep.Both)
            .Run(Sys.Materializer());
        var received = await events.WaitAsync(Timeout);
        await control.DrainAndStopAsync().WaitAsync(Timeout);

        var assigned = Assert.IsType<PartitionsAssigned>(received[0]);
        Assert.Equal([0, 1, 2], assigned.Partitions.Select(p => p.Partition.Value).Order());
        var records = received.Skip(1).Cast<KafkaRecord>().ToList();
        foreach (var partition in positions.GroupBy(p => p.Partition.Value))
        {
            Assert.Equal(
                partition.Select(p => p.Offset.Value),
                records.Where(r => r.Partition == partition.Key).Select(r => r.Offset));
        }
    }

    [Fact]
    public async Task Only_stored_offsets_are_committed_and_the_next_consumer_resumes_there()
    {
        var positions = await KafkaTestTopics.ProduceAsync(
            _broker.BootstrapServers, Topic, Enumerable.Range(0, 10).Select(i => ((string?)"same-key", $"v{i}")));
        var partition = positions[0].TopicPartition;

        // Read everything but mark only offsets 0..3 handled (next offset to read: 4). The sink
        // keeps the stream open, as the service's does, so the stage can still store and commit.
        var settings = Settings("resume") with { DrainTimeout = TimeSpan.FromMilliseconds(500) };
        var first = new List<KafkaRecord>();
        var allTen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (control, _) = Source.FromGraph(new KafkaSourceStage(settings))
            .Collect(e => e is KafkaRecord, e => (KafkaRecord)e)
            .ToMaterialized(
                Sink.ForEach<KafkaRecord>(r =>
                {
                    first.Add(r);
                    if (first.Count == 10)
                    {
                        allTen.SetResult();
                    }
                }),
                Keep.Both)
            .Run(Sys.Materializer());
        await allTen.Task.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), first.Select(r => r.Offset));
        control.StoreOffsets([first[3].NextOffset]);
        await control.DrainAndStopAsync().WaitAsync(Timeout);

        var committed = KafkaTestTopics.CommittedOffsets(_broker.BootstrapServers, "resume", Topic, 3, Timeout);
        Assert.Equal(4, committed[partition.Partition.Value]);

        var (again, next) = Source.FromGraph(new KafkaSourceStage(settings))
            .Collect(e => e is KafkaRecord, e => (KafkaRecord)e)
            .Take(1)
            .ToMaterialized(Sink.First<KafkaRecord>(), Keep.Both)
            .Run(Sys.Materializer());
        Assert.Equal(4, (await next.WaitAsync(Timeout)).Offset);
        await again.DrainAndStopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_CreateTime_outside_the_range_of_a_date_is_read_clamped_instead_of_failing_the_stage()
    {
        // A producer sets CreateTime to any long, and the dev broker keeps it as sent.
        long[] forged = [long.MaxValue, long.MinValue, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() + 1, -1];
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true }).Build())
        {
            foreach (var ms in forged)
            {
                await producer.ProduceAsync(
                    new TopicPartition(Topic, new Partition(0)),
                    new Message<byte[]?, byte[]> { Key = "k"u8.ToArray(), Value = "v"u8.ToArray(), Timestamp = new Timestamp(ms, TimestampType.CreateTime) });
            }
        }

        var (control, records) = Source.FromGraph(new KafkaSourceStage(Settings("forged")))
            .Collect(e => e is KafkaRecord, e => (KafkaRecord)e)
            .Take(forged.Length)
            .ToMaterialized(Sink.Seq<KafkaRecord>(), Keep.Both)
            .Run(Sys.Materializer());
        var read = await records.WaitAsync(Timeout);
        await control.DrainAndStopAsync().WaitAsync(Timeout);

        Assert.Equal(
            [DateTimeOffset.MaxValue.ToUnixTimeMilliseconds(), DateTimeOffset.MinValue.ToUnixTimeMilliseconds(), DateTimeOffset.MaxValue.ToUnixTimeMilliseconds(), -1L],
            read.Select(r => r.Timestamp.ToUnixTimeMilliseconds()));
    }

    public new void Dispose()
    {
        base.Dispose();
        _broker.Dispose();
    }

    private KafkaSourceSettings Settings(string group) => KafkaSourceSettings.Create(
        new ConsumerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            GroupId = group,

            // The dev broker waits a whole session timeout before it rebalances a group that a
            // member left, so a consumer that follows another in the same group waits that long.
            SessionTimeoutMs = 6000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 100,
        },
        Topic);
}
