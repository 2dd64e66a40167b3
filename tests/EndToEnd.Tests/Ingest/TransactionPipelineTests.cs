using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Ingest;

/// <summary>
/// The whole ingest path on the dev broker (real Kafka protocol) and a one-node cluster: bad
/// records of every kind reach the DLQ with their reason and origin, and the stream goes on.
/// </summary>
public sealed class TransactionPipelineTests : TestKit, IDisposable
{
    private const string Transactions = "transactions";
    private const string Alerts = "alerts";
    private const string Dlq = "transactions.dlq";
    private const string Group = "pipeline-test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Transactions, 3), (Alerts, 3), (Dlq, 3));
    private IProducer<byte[]?, byte[]>? _producer;
    private Outbox<Alert>? _outbox;

    public TransactionPipelineTests()
        : base(OneNodeCluster.Config)
    {
    }

    [Fact]
    public async Task Every_kind_of_bad_record_goes_to_the_dlq_with_its_reason_and_the_stream_goes_on()
    {
        const string ts = "2026-03-17T09:00:00Z";
        var bad = new (string Reason, string? Key, string Value)[]
        {
            ("oversized", "u1", $$"""{"user_id":"u1","amount":1,"ts":"{{ts}}","pad":"{{new string('x', 2048)}}"}"""),
            ("invalid-json", "u1", "this is not json"),
            ("missing-user-id", "u1", $$"""{"amount":1,"ts":"{{ts}}"}"""),
            ("missing-user-id", "u1", $$"""{"user_id":"","amount":1,"ts":"{{ts}}"}"""),
            ("invalid-amount", "u1", $$"""{"user_id":"u1","amount":"lots","ts":"{{ts}}"}"""),
            ("invalid-amount", "u1", $$"""{"user_id":"u1","amount":1e999,"ts":"{{ts}}"}"""),
            ("invalid-ts", "u1", """{"user_id":"u1","amount":1,"ts":"half past nine"}"""),
            ("missing-key", null, $$"""{"user_id":"u1","amount":1,"ts":"{{ts}}"}"""),
            ("key-mismatch", "u2", $$"""{"user_id":"u1","amount":1,"ts":"{{ts}}"}"""),
        };

        // Six good transactions of u1 within a minute come after all the bad ones: the sixth alerts.
        var good = Enumerable.Range(0, 6).Select(i =>
            ((string?)"u1", Encoding.UTF8.GetString(TransactionJson.Serialize(
                new Transaction("u1", 10m + i, "shop", new DateTimeOffset(2026, 3, 17, 9, 0, i, TimeSpan.Zero), $"tx-{i}")))));
        var positions = await KafkaTestTopics.ProduceAsync(
            _broker.BootstrapServers,
            Transactions,
            bad.Select(b => (b.Key, b.Value)).Concat(good));

        var metrics = new PipelineMetrics();
        var history = new CheckpointHistory(10);
        var run = (await Pipeline(metrics, history)).Run(
            KafkaSourceSettings.Create(ConsumerConfig(), Transactions),
            Sys.Materializer(),
            generation: 1);
        await AwaitConditionAsync(() => Task.FromResult(metrics.RecordsIn == positions.Count && metrics.Alerts == 1 && metrics.DeadLettered == bad.Length), Timeout);

        // Stop as the service does: stop reading, a final checkpoint, then the consumer closes.
        var drained = run.Control.DrainAndStopAsync();
        await run.CheckpointNow();
        await drained;
        await run.Completion;
        await _outbox!.DisposeAsync();
        Assert.NotEmpty(history.Snapshot());
        Assert.All(history.Snapshot(), c => Assert.Equal(CheckpointStatus.Completed, c.Status));

        var dead = KafkaTestTopics.ReadAll(_broker.BootstrapServers, Dlq, Timeout);
        Assert.Equal(bad.Length, dead.Count);
        for (var i = 0; i < bad.Length; i++)
        {
            var origin = positions[i];
            var record = Assert.Single(dead, d =>
                d.Header(DeadLetterPublisher.PartitionHeader) == origin.Partition.Value.ToString(CultureInfo.InvariantCulture)
                && d.Header(DeadLetterPublisher.OffsetHeader) == origin.Offset.Value.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(bad[i].Reason, record.Header(DeadLetterPublisher.ReasonHeader));
            Assert.Equal(Transactions, record.Header(DeadLetterPublisher.TopicHeader));
            Assert.False(string.IsNullOrWhiteSpace(record.Header(DeadLetterPublisher.ErrorHeader)));
            Assert.Equal(bad[i].Value, Encoding.UTF8.GetString(record.Message.Value));
            Assert.Equal(bad[i].Key, record.Message.Key is null ? null : Encoding.UTF8.GetString(record.Message.Key));
        }

        var alert = AlertJson.Deserialize(Assert.Single(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Alerts, Timeout)).Message.Value);
        Assert.Equal(("u1", 6, 15m, "tx-5"), (alert.UserId, alert.Count, alert.LastAmount, alert.TxId));
        Assert.Equal(positions[^1].Offset.Value, alert.Offset);
        Assert.Equal($"sliding-velocity:{positions[^1].Partition.Value}:{positions[^1].Offset.Value}", alert.AlertId);

        // Every record was handled, bad ones included, so every offset is committed: nothing blocks.
        var committed = KafkaTestTopics.CommittedOffsets(_broker.BootstrapServers, Group, Transactions, 3, Timeout);
        foreach (var partition in positions.GroupBy(p => p.Partition.Value))
        {
            Assert.Equal(partition.Max(p => p.Offset.Value) + 1, committed[partition.Key]);
        }
    }

    [Fact]
    public async Task A_record_whose_processing_throws_goes_to_the_dlq_as_processing_error_and_the_stream_goes_on()
    {
        // u1: three good records, a poisoned one, three good ones; u2: six good ones. One partition.
        var start = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
        var u1 = Enumerable.Range(0, 7).Select(i => Record("u1", i == 3 ? FragileRule.Poison : 10m, start.AddSeconds(i)));
        var u2 = Enumerable.Range(0, 6).Select(i => Record("u2", 20m, start.AddSeconds(i)));
        var records = u1.Concat(u2).ToList();
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, records.Select(r => (0, r.Key!, r.Value)));
        var journals = new PartitionJournals(Sys, Transactions, new PartitionJournalSettings());
        var users = await OneNodeCluster.StartUsersAsync(
            Sys,
            journals: journals,
            users: new RuleSettings([new FragileRule(), new SlidingVelocityRule(new VelocitySettings(5, TimeSpan.FromSeconds(60)))]));
        var (metrics, history) = (new PipelineMetrics(), new CheckpointHistory(10));
        var run = (await Pipeline(users, journals, CheckpointSettings.Default with { Interval = TimeSpan.FromMilliseconds(200) }))(metrics, history)
            .Run(KafkaSourceSettings.Create(ConsumerConfig(), Transactions), Sys.Materializer(), generation: 1);
        await AwaitConditionAsync(() => Task.FromResult(metrics.RecordsIn == records.Count && metrics.Alerts == 2 && metrics.DeadLettered == 1), Timeout);

        var drained = run.Control.DrainAndStopAsync();
        await run.CheckpointNow();
        await drained;
        await run.Completion;
        await _outbox!.DisposeAsync();

        // The stream never failed: every checkpoint committed, the last one past every record.
        Assert.All(history.Snapshot(), c => Assert.Equal(CheckpointStatus.Completed, c.Status));
        Assert.Equal(records.Count, history.Snapshot().Max(c => c.NextOffset));
        var dead = Assert.Single(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Dlq, Timeout));
        Assert.Equal("processing-error", dead.Header(DeadLetterPublisher.ReasonHeader));
        Assert.Equal("3", dead.Header(DeadLetterPublisher.OffsetHeader));
        Assert.Contains("InvalidOperationException: poison amount", dead.Header(DeadLetterPublisher.ErrorHeader), StringComparison.Ordinal);

        // u1's sixth applied record (offset 6) and u2's sixth alert; the poisoned one counted for nobody.
        var alerts = KafkaTestTopics.ReadAll(_broker.BootstrapServers, Alerts, Timeout).Select(a => AlertJson.Deserialize(a.Message.Value)).OrderBy(a => a.UserId).ToList();
        Assert.Equal([("u1", 6, 6L), ("u2", 6, 12L)], alerts.Select(a => (a.UserId, a.Count, a.Offset)));

        static (string? Key, string Value) Record(string user, decimal amount, DateTimeOffset ts) =>
            (user, Encoding.UTF8.GetString(TransactionJson.Serialize(new Transaction(user, amount, "shop", ts))));
    }

    [Fact]
    public async Task A_revoked_partition_is_checkpointed_before_it_goes_and_its_next_owner_reads_none_of_its_records_again()
    {
        // Three users' records on three partitions; the interval is an hour, so only the
        // revocation can take a checkpoint.
        var start = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
        var records = Enumerable.Range(0, 30).Select(i => Record($"u{i % 3}", start.AddSeconds(i))).ToList();
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, records.Select((r, i) => (i % 3, r.Key!, r.Value)));
        var journals = new PartitionJournals(Sys, Transactions, new PartitionJournalSettings());
        var users = await OneNodeCluster.StartUsersAsync(Sys, journals: journals);
        var hourly = CheckpointSettings.Default with { Interval = TimeSpan.FromHours(1) };
        var pipelines = await Pipeline(users, journals, hourly);
        var (firstMetrics, firstHistory) = (new PipelineMetrics(), new CheckpointHistory(10));
        var firstRun = pipelines(firstMetrics, firstHistory).Run(KafkaSourceSettings.Create(ConsumerConfig(), Transactions), Sys.Materializer(), generation: 1);
        await AwaitConditionAsync(() => Task.FromResult(firstMetrics.RecordsIn == records.Count), Timeout);
        Assert.Empty(firstHistory.Snapshot());

        // A second member joins the group: the first gives its partitions up, checkpointing them first.
        var secondMetrics = new PipelineMetrics();
        var secondRun = pipelines(secondMetrics, new CheckpointHistory(10)).Run(KafkaSourceSettings.Create(ConsumerConfig(), Transactions), Sys.Materializer(), generation: 2);
        await AwaitConditionAsync(() => Task.FromResult(secondMetrics.Partitions.Assigned.Count > 0), Timeout);
        var revoked = firstHistory.Snapshot();
        Assert.Equal([0, 1, 2], revoked.Select(c => c.Partition).Order());
        Assert.All(revoked, c => Assert.Equal((CheckpointStatus.Completed, 10L), (c.Status, c.NextOffset)));
        for (var partition = 0; partition < 3; partition++)
        {
            var checkpoint = await journals.For(partition).Ask<Messages.Checkpoints.PartitionCheckpoint>(Messages.Checkpoints.GetPartitionCheckpoint.Instance, Timeout);
            Assert.Equal(10L, checkpoint.NextOffset);
        }

        // One more record per partition: each member reads on from the checkpoint, none again.
        var more = Enumerable.Range(30, 3).Select(i => Record($"u{i % 3}", start.AddSeconds(i))).ToList();
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, more.Select((r, i) => (i, r.Key!, r.Value)));
        await AwaitConditionAsync(() => Task.FromResult(firstMetrics.RecordsIn + secondMetrics.RecordsIn >= records.Count + more.Count), Timeout);
        Assert.Equal(records.Count + more.Count, firstMetrics.RecordsIn + secondMetrics.RecordsIn);

        await Task.WhenAll(firstRun.Control.StopNowAsync(), secondRun.Control.StopNowAsync());
        await _outbox!.DisposeAsync();

        static (string? Key, string Value) Record(string user, DateTimeOffset ts) =>
            (user, Encoding.UTF8.GetString(TransactionJson.Serialize(new Transaction(user, 10m, "shop", ts))));
    }

    [Fact]
    public async Task A_node_whose_partition_another_node_took_over_in_the_store_writes_no_checkpoint_of_it_and_is_fenced()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fence-{Guid.NewGuid():N}.db");
        var database = FraudActors.Engine.Storage.SqlDatabase.Sqlite($"Data Source={file}");
        await PartitionFence.CreateTableAsync(database, CancellationToken.None);
        var fence = new PartitionFence(database, "job", "node-a");
        var start = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
        var first = Enumerable.Range(0, 30).Select(i => Record($"u{i % 3}", start.AddSeconds(i))).ToList();
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, first.Select((r, i) => (i % 3, r.Key!, r.Value)));
        var journals = new PartitionJournals(Sys, Transactions, new PartitionJournalSettings());
        var users = await OneNodeCluster.StartUsersAsync(Sys, journals: journals);
        var hourly = CheckpointSettings.Default with { Interval = TimeSpan.FromHours(1), Fence = fence };
        var (metrics, history) = (new PipelineMetrics(), new CheckpointHistory(10));
        var run = (await Pipeline(users, journals, hourly))(metrics, history).Run(KafkaSourceSettings.Create(ConsumerConfig(), Transactions), Sys.Materializer(), generation: 1);
        await AwaitConditionAsync(() => Task.FromResult(metrics.RecordsIn == first.Count), Timeout);
        await run.CheckpointNow();
        await AwaitConditionAsync(() => Task.FromResult(history.Snapshot().Count == 3), Timeout);
        Assert.All(history.Snapshot(), c => Assert.Equal((CheckpointStatus.Completed, 10L), (c.Status, c.NextOffset)));

        // Another node takes partition 1 (frozen, this node missed its downing and the group's rebalance).
        await new PartitionFence(database, "job", "node-b").TakeAsync(1, CancellationToken.None);
        var more = Enumerable.Range(30, 3).Select(i => Record($"u{i % 3}", start.AddSeconds(i))).ToList();
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, more.Select((r, i) => (i, r.Key!, r.Value)));
        await AwaitConditionAsync(() => Task.FromResult(metrics.RecordsIn == first.Count + more.Count), Timeout);
        await run.CheckpointNow();

        Assert.Equal("partition 1 of job job was taken over by node-b (epoch 2, this node's 1)", await fence.Fenced.WaitAsync(Timeout));
        await AwaitConditionAsync(() => Task.FromResult(history.Snapshot().Any(c => c.Status == CheckpointStatus.Failed)), Timeout);
        var refused = Assert.Single(history.Snapshot(), c => c.Status == CheckpointStatus.Failed);
        Assert.Equal(1, refused.Partition);
        Assert.StartsWith("fenced: partition 1", refused.Failure, StringComparison.Ordinal);
        var checkpoint = await journals.For(1).Ask<Messages.Checkpoints.PartitionCheckpoint>(Messages.Checkpoints.GetPartitionCheckpoint.Instance, Timeout);
        Assert.Equal(10L, checkpoint.NextOffset);

        // Fenced for good: this node takes no partition again, not even one it read before.
        await Assert.ThrowsAsync<InvalidOperationException>(() => fence.TakeAsync(0, CancellationToken.None));
        await run.Control.StopNowAsync();
        await _outbox!.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(file);

        static (string? Key, string Value) Record(string user, DateTimeOffset ts) =>
            (user, Encoding.UTF8.GetString(TransactionJson.Serialize(new Transaction(user, 10m, "shop", ts))));
    }

    public new void Dispose()
    {
        base.Dispose();
        _producer?.Dispose();
        _broker.Dispose();
    }

    private async Task<TransactionPipeline> Pipeline(PipelineMetrics metrics, CheckpointHistory history)
    {
        var journals = new PartitionJournals(Sys, Transactions, new PartitionJournalSettings());
        var users = await OneNodeCluster.StartUsersAsync(Sys, journals: journals);
        return (await Pipeline(users, journals, CheckpointSettings.Default))(metrics, history);
    }

    /// <summary>Pipelines over one user region and one set of journals, as the members of a group on one node.</summary>
    private async Task<Func<PipelineMetrics, CheckpointHistory, TransactionPipeline>> Pipeline(IActorRef users, IPartitionJournals journals, CheckpointSettings checkpoints)
    {
        var producer = _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            EnableIdempotence = true,
        }).Build();
        _outbox = new Outbox<Alert>(new MemoryOutboxTable<Alert>(AlertCodec.For(Alerts)), producer, _broker.BootstrapServers, Sys.Log);
        await _outbox.StartAsync(CancellationToken.None);
        var outbox = _outbox;
        return (metrics, history) => new TransactionPipeline(
            users,
            journals,
            new TransactionParser(maxValueBytes: 1024),
            outbox,
            new DeadLetterPublisher(producer, Dlq),
            PipelineSettings.Default,
            checkpoints,
            history,
            metrics,
            Sys.Log);
    }

    private ConsumerConfig ConsumerConfig() => new()
    {
        BootstrapServers = _broker.BootstrapServers,
        GroupId = Group,
        SessionTimeoutMs = 6000,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = true,
        AutoCommitIntervalMs = 200,
    };
}
