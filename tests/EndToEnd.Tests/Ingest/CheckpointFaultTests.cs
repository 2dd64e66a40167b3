using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Users;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;
using Npgsql;

namespace FraudActors.EndToEnd.Tests.Ingest;

/// <summary>
/// Checkpoints on a real PostgreSQL that misbehaves: a database error fails the checkpoint, not
/// the service; the stream retries with back-off and never commits an offset whose state is not
/// durable; once the database takes writes again, everything is committed once. And min-pause
/// spaces checkpoints as Flink's does.
/// </summary>
public sealed class CheckpointFaultTests : TestKit, IDisposable
{
    private const string Transactions = "transactions";
    private const string Group = "checkpoint-faults";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Transactions, 1), ("transactions.dlq", 1));
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _database;
    private readonly ConcurrentQueue<string> _log = new();

    public CheckpointFaultTests()
        : this(TestPostgres.CreateDatabaseAsync("faults").GetAwaiter().GetResult())
    {
    }

    private CheckpointFaultTests(string database)
        : base(ConfigurationFactory.ParseString("akka.loglevel = INFO")
            .WithFallback(JournalStore.Config(JournalStore.Postgres, database))
            .WithFallback(OneNodeCluster.Config))
    {
        _database = database;
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers }).Build();
        var log = _log;
        Sys.EventStream.Subscribe(Sys.ActorOf(Props.Create(() => new LogCollector(log))), typeof(LogEvent));
    }

    [Fact]
    public async Task A_database_error_fails_checkpoints_not_the_service_rewinds_in_place_and_no_offset_is_committed_until_the_state_is_durable()
    {
        var history = new CheckpointHistory(1000);
        var (ingest, journals) = await StartAsync(history, new CheckpointSettings(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3), 1000));
        await ProduceAsync(0, 20);
        await Eventually.TrueAsync(() => CommittedOffset() == 20, Timeout, () => $"committed {CommittedOffset()}");

        // The journal table refuses every write from now on: a real error from a real server.
        await RefuseJournalWritesAsync();
        await ProduceAsync(20, 10);
        await Eventually.TrueAsync(() => history.Failed >= 2 && ingest.Restarts >= 2, Timeout, () => $"{history.Failed} failed checkpoints, {ingest.Restarts} restart(s)");

        // Checkpoints failed and were retried; the 10 records are applied but not durable, so
        // their offsets were never committed.
        Assert.Equal(20, CommittedOffset());

        await ExecuteAsync("DROP TRIGGER refuse_writes ON event_journal");
        await Eventually.TrueAsync(() => CommittedOffset() == 30, Timeout, () => $"committed {CommittedOffset()}, {history.Failed} failed");
        await ingest.StopAsync();

        // The same ingest kept running through the fault; every record counts once in the state.
        var state = await journals.For(0).Ask<CommittedUsers>(GetCommittedUsers.Instance, Timeout);
        Assert.Equal(30, state.NextOffset);
        Assert.Equal(30, state.Users.Sum(u => UserStateCodec.Decode(u.State).TransactionCount));
        Assert.Contains(history.Snapshot(), r => r.Status == CheckpointStatus.Failed && r.Failure is not null);

        // One join and one assignment: every rewind was done in place, with no revocation.
        Assert.Equal(1, ingest.GroupJoins);
        var lines = _log.ToList();
        Assert.Single(lines, l => l.Contains("Kafka source: assigned", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Kafka source: revoked", StringComparison.Ordinal) || l.Contains("Kafka source: lost", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("in place, still a member of the group", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_write_the_database_refuses_fails_its_checkpoint_at_once_with_the_database_s_reason_not_at_the_timeout()
    {
        // A timeout far longer than the test: a failure recorded must come from the journal's answer.
        var history = new CheckpointHistory(1000);
        var (ingest, _) = await StartAsync(history, new CheckpointSettings(TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(10), 1000));
        await ProduceAsync(0, 5);
        await Eventually.TrueAsync(() => CommittedOffset() == 5, Timeout, () => $"committed {CommittedOffset()}");

        await RefuseJournalWritesAsync();
        await ProduceAsync(5, 5);
        await Eventually.TrueAsync(() => history.Failed >= 1, Timeout, () => $"{history.Failed} failed checkpoints");
        await ExecuteAsync("DROP TRIGGER refuse_writes ON event_journal");
        await Eventually.TrueAsync(() => CommittedOffset() == 10, Timeout, () => $"committed {CommittedOffset()}");
        await ingest.StopAsync();

        var failed = history.Snapshot().First(r => r.Status == CheckpointStatus.Failed);
        Assert.Contains("PostgreSQL: ", failed.Failure, StringComparison.Ordinal);
        Assert.Contains("disk on fire (test)", failed.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Min_pause_keeps_that_much_time_between_the_end_of_a_checkpoint_and_the_start_of_the_next()
    {
        var minPause = TimeSpan.FromMilliseconds(700);
        var history = new CheckpointHistory(1000);
        var (ingest, _) = await StartAsync(history, new CheckpointSettings(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10), 1000, minPause));

        // Records keep arriving, so every tick finds work; only min-pause holds checkpoints back.
        for (var i = 0; history.Completed < 4; i++)
        {
            await ProduceAsync(i, 1);
            Assert.True(i < 10_000, "checkpoints did not complete");
        }

        // The periodic ones only: the stop's final checkpoint, like stop-with-savepoint, does not wait.
        var completed = history.Snapshot().Where(r => r.Status == CheckpointStatus.Completed).OrderBy(r => r.Started).ToList();
        await ingest.StopAsync();
        Assert.True(completed.Count >= 4);
        foreach (var (previous, next) in completed.Zip(completed.Skip(1)))
        {
            Assert.True(next.Started - (previous.Started + previous.Duration) >= minPause, $"epoch {next.Epoch} started {next.Started - (previous.Started + previous.Duration)} after epoch {previous.Epoch} ended");
        }
    }

    [Fact]
    public async Task Stopping_takes_a_final_checkpoint_like_stop_with_savepoint()
    {
        // No periodic checkpoint would run for an hour: only the stop can commit these records.
        var history = new CheckpointHistory(1000);
        var metrics = new PipelineMetrics();
        var (ingest, journals) = await StartAsync(history, new CheckpointSettings(TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), 1000), metrics);
        await ProduceAsync(0, 12);
        await Eventually.TrueAsync(() => metrics.RecordsIn == 12, Timeout, () => $"{metrics}");
        Assert.Equal(0, history.Completed);

        await ingest.StopAsync();
        Assert.Equal(1, history.Completed);
        var state = await journals.For(0).Ask<CommittedUsers>(GetCommittedUsers.Instance, Timeout);
        Assert.Equal((12L, 12L), (state.NextOffset, state.Users.Sum(u => UserStateCodec.Decode(u.State).TransactionCount)));
        Assert.Equal(12, CommittedOffset());
    }

    public new void Dispose()
    {
        base.Dispose();
        _producer.Dispose();
        _broker.Dispose();
    }

    private Task<(TransactionIngest Ingest, PartitionJournals Journals)> StartAsync(CheckpointHistory history, CheckpointSettings checkpoints, PipelineMetrics? metrics = null) =>
        TestIngest.StartAsync(Sys, _broker.BootstrapServers, Transactions, Group, new NoAlerts(), _producer, checkpoints, history, metrics ?? new PipelineMetrics());

    /// <summary>Transactions of five users, a minute apart (no alerts), starting at the <paramref name="first"/>th.</summary>
    private Task ProduceAsync(int first, int count) =>
        KafkaTestTopics.ProduceAsync(_broker.BootstrapServers, Transactions, Enumerable.Range(first, count).Select(i =>
        {
            var user = $"u{i % 5}";
            return ((string?)user, Encoding.UTF8.GetString(TransactionJson.Serialize(new Transaction(user, 10m, "shop", T0.AddMinutes(i)))));
        }));

    private long CommittedOffset() =>
        KafkaTestTopics.CommittedOffsets(_broker.BootstrapServers, Group, Transactions, 1, TimeSpan.FromSeconds(10))[0];

    /// <summary>The streams here raise no alert; one would fail the stream loudly.</summary>
    private sealed class NoAlerts : IOutputSink<Alert>
    {
        public Task PublishAsync(Messages.Alerts.Alert alert, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"unexpected alert {alert.AlertId}");
    }

    /// <summary>The journal table refuses every write from now on: a real error from a real server.</summary>
    private Task RefuseJournalWritesAsync() => ExecuteAsync("""
        CREATE OR REPLACE FUNCTION refuse_writes() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire (test)'; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER refuse_writes BEFORE INSERT ON event_journal FOR EACH ROW EXECUTE FUNCTION refuse_writes();
        """);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed class LogCollector : ReceiveActor
    {
        public LogCollector(ConcurrentQueue<string> lines) => Receive<LogEvent>(e => lines.Enqueue(e.Message?.ToString() ?? string.Empty));
    }
}
