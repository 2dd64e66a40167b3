using System.Collections.Concurrent;
using System.Text;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Ingest;

/// <summary>
/// Event time through the whole ingest path on the dev broker: each partition's watermark closes
/// windows also of users that receive no more records, an idle partition follows the busy ones,
/// and a record behind the watermark goes to the late side output, counted and on its topic.
/// </summary>
public sealed class EventTimePipelineTests : TestKit, IDisposable
{
    private const string Transactions = "transactions";
    private const string Late = "transactions.late";
    private const string Dlq = "transactions.dlq";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Transactions, 2), ("alerts", 2), (Dlq, 2), (Late, 2));
    private readonly Collected _windows = new();
    private readonly List<IDisposable> _disposables = [];

    public EventTimePipelineTests()
        : base(OneNodeCluster.Config)
    {
    }

    [Fact]
    public async Task The_watermark_closes_windows_of_users_without_more_records_and_a_late_record_goes_to_the_side_output()
    {
        var metrics = new PipelineMetrics();
        var run = await StartAsync(metrics, new WatermarkSettings(TimeSpan.FromSeconds(5), IdleTimeout: null));
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, [
            Tx(0, "u1", T0.AddMinutes(1), 10m),
            Tx(0, "u1", T0.AddMinutes(2), 15m),
            Tx(0, "u2", T0.AddMinutes(3), 7m),
            Tx(0, "u3", T0.AddMinutes(4).AddSeconds(30), 1m),

            // u4 moves partition 0's watermark to 09:10:00: u1, u2 and u3 receive nothing more,
            // yet their [09:00, 09:05) windows close. Partition 1 is untouched by it.
            Tx(1, "u9", T0.AddMinutes(1), 3m),
            Tx(0, "u4", T0.AddMinutes(10).AddSeconds(5), 2m),

            // Behind partition 0's watermark: late. On partition 1 (watermark 09:00:55) 09:00:57 is not.
            Tx(0, "u5", T0.AddSeconds(30), 99m),
            Tx(1, "u9", T0.AddSeconds(57), 4m),
        ]);

        await AwaitConditionAsync(() => Task.FromResult(metrics.Applied == 8 && _windows.Results.Count >= 3), Timeout);
        await StopAsync(run);

        Assert.Equal(
            [("tumbling:u1", 2L, 25m), ("tumbling:u2", 1L, 7m), ("tumbling:u3", 1L, 1m)],
            _windows.Results.Select(r => (r.ResultId[..r.ResultId.IndexOf(':', 9)], r.Count, r.TotalAmount)).Order());
        Assert.All(_windows.Results, r => Assert.Equal((T0, T0.AddMinutes(5)), (r.WindowStart, r.WindowEnd)));

        Assert.Equal(1, metrics.Late);
        var late = Assert.Single(KafkaTestTopics.ReadAll(_broker.BootstrapServers, Late, Timeout));
        Assert.Equal("late", late.Header(DeadLetterPublisher.ReasonHeader));
        Assert.Contains("\"u5\"", Encoding.UTF8.GetString(late.Message.Value), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_partition_follows_the_busy_one_so_its_windows_close()
    {
        var metrics = new PipelineMetrics();
        var run = await StartAsync(metrics, new WatermarkSettings(TimeSpan.FromSeconds(5), IdleTimeout: TimeSpan.FromSeconds(1)));

        // Partition 0 has one record and then nothing.
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, [Tx(0, "quiet", T0.AddMinutes(1), 5m)]);
        await AwaitConditionAsync(() => Task.FromResult(metrics.Applied == 1), Timeout);

        // Partition 1 keeps receiving records, a minute of event time apart: once the quiet
        // partition has been idle for a second it follows partition 1's watermark. (The pause
        // paces the busy partition; the loop ends on the condition.)
        for (var minute = 2; !_windows.Results.Any(r => r.UserId == "quiet") && minute < 600; minute++)
        {
            await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, [Tx(1, "busy", T0.AddMinutes(minute), 1m)]);
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        await StopAsync(run);

        var quiet = Assert.Single(_windows.Results, r => r.UserId == "quiet");
        Assert.Equal((WindowKinds.Tumbling, T0, T0.AddMinutes(5), 1L), (quiet.Kind, quiet.WindowStart, quiet.WindowEnd, quiet.Count));

        // The busy user's closed windows, each once, five transactions each but its first.
        var busy = _windows.Results.Where(r => r.UserId == "busy").OrderBy(r => r.WindowStart).ToList();
        Assert.NotEmpty(busy);
        Assert.Equal(busy.Count, busy.Select(r => r.ResultId).Distinct().Count());
        Assert.Equal([3L, .. Enumerable.Repeat(5L, busy.Count - 1)], busy.Select(r => r.Count));
    }

    [Fact]
    public async Task In_processing_time_windows_follow_the_wall_clock_whatever_the_records_say()
    {
        var metrics = new PipelineMetrics();
        var started = DateTimeOffset.UtcNow;
        var time = new TimeSettings(TimeCharacteristic.ProcessingTime, WatermarkSettings.Default, TimeSpan.FromMilliseconds(100));
        var run = await StartAsync(metrics, time, new WindowSettings(Tumbling: TimeSpan.FromSeconds(1)));

        // Event times a year apart and out of order: in processing time none is late, and the
        // windows are the seconds in which the records were read.
        await KafkaTestTopics.ProduceToAsync(_broker.BootstrapServers, Transactions, [
            Tx(0, "u1", T0, 1m),
            Tx(0, "u1", T0.AddYears(1), 2m),
            Tx(0, "u1", T0.AddYears(-1), 4m),
        ]);
        await AwaitConditionAsync(() => Task.FromResult(_windows.Results.Sum(r => r.Count) == 3), Timeout);
        await StopAsync(run);

        Assert.Equal(0, metrics.Late);
        Assert.Equal(7m, _windows.Results.Sum(r => r.TotalAmount));
        Assert.All(_windows.Results, r =>
        {
            Assert.Equal(TimeSpan.FromSeconds(1), r.WindowEnd - r.WindowStart);
            Assert.Equal(0, r.WindowStart.Millisecond);
            Assert.InRange(r.WindowStart, started.AddSeconds(-1), DateTimeOffset.UtcNow);
        });
    }

    public new void Dispose()
    {
        base.Dispose();
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        _broker.Dispose();
    }

    private static (int, string, string) Tx(int partition, string user, DateTimeOffset ts, decimal amount) =>
        (partition, user, Encoding.UTF8.GetString(TransactionJson.Serialize(new Transaction(user, amount, "shop", ts))));

    private Task<PipelineRun> StartAsync(PipelineMetrics metrics, WatermarkSettings watermarks) =>
        StartAsync(metrics, new TimeSettings(TimeCharacteristic.EventTime, watermarks, TimeSpan.FromMilliseconds(100)), new WindowSettings(Tumbling: TimeSpan.FromMinutes(5)));

    private async Task<PipelineRun> StartAsync(PipelineMetrics metrics, TimeSettings time, WindowSettings windows)
    {
        var journals = new PartitionJournals(Sys, Transactions, new PartitionJournalSettings());
        var settings = new UserSettings(new RuleSettings(SlidingVelocity: null), windows);
        var users = await OneNodeCluster.StartUsersAsync(Sys, journals: journals, users: settings);
        var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true }).Build();
        _disposables.Add(producer);
        var pipeline = new TransactionPipeline(
            users,
            journals,
            new TransactionParser(),
            new CollectedAlerts(),
            new DeadLetterPublisher(producer, Dlq),
            PipelineSettings.Default,
            CheckpointSettings.Default,
            new CheckpointHistory(10),
            metrics,
            Sys.Log,
            new PipelineTime(time, _windows, new DeadLetterPublisher(producer, Late)));
        var consumer = new ConsumerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            GroupId = "event-time-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        return pipeline.Run(KafkaSourceSettings.Create(consumer, Transactions), Sys.Materializer(), generation: 1);
    }

    private static async Task StopAsync(PipelineRun run)
    {
        var drained = run.Control.DrainAndStopAsync();
        await run.CheckpointNow();
        await drained;
        await run.Completion;
    }

    private sealed class Collected : IOutputSink<WindowResult>
    {
        private readonly ConcurrentQueue<WindowResult> _results = new();

        public IReadOnlyList<WindowResult> Results => [.. _results];

        public Task PublishAsync(WindowResult result, CancellationToken cancellationToken)
        {
            _results.Enqueue(result);
            return Task.CompletedTask;
        }
    }

    private sealed class CollectedAlerts : IOutputSink<Alert>
    {
        public Task PublishAsync(Messages.Alerts.Alert alert, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
