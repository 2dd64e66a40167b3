using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Ingest;
using FraudActors.Actors.Kafka;
using FraudActors.Actors.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Transactions;
using FraudActors.Testing;
using Npgsql;

namespace FraudActors.Actors.Tests.Ingest;

/// <summary>
/// A failed checkpoint rewinds its partitions in place: the node stays a member of its consumer
/// group (no revocation, no second assignment, no session timeout to wait out), seeks back to
/// the last commit, reloads its users, and every record still counts once.
/// </summary>
public sealed class RewindInPlaceTests : TestKit, IDisposable
{
    private const string Transactions = "transactions";
    private const string Group = "rewind-in-place";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private readonly DevBroker _broker = KafkaTestTopics.StartBroker((Transactions, 2), ("transactions.dlq", 1));
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _database;
    private readonly ConcurrentQueue<string> _log = new();

    public RewindInPlaceTests()
        : this(TestPostgres.CreateDatabaseAsync("rewind").GetAwaiter().GetResult())
    {
    }

    private RewindInPlaceTests(string database)
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
    public async Task A_failed_checkpoint_rewinds_in_place_keeping_the_group_membership()
    {
        var history = new CheckpointHistory(1000);
        var (ingest, journals) = await TestIngest.StartAsync(
            Sys, _broker.BootstrapServers, Transactions, Group, new NoAlerts(), _producer, new CheckpointSettings(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3), 1000), history, new PipelineMetrics());
        await ProduceAsync(0, 20);
        await Eventually.TrueAsync(() => Committed() == 20, Timeout, () => $"committed {Committed()}");

        // The journal table refuses writes: the next checkpoint fails and the stream rewinds.
        await ExecuteAsync("""
            CREATE FUNCTION refuse_writes() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire (test)'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_writes BEFORE INSERT ON event_journal FOR EACH ROW EXECUTE FUNCTION refuse_writes();
            """);
        await ProduceAsync(20, 10);
        await Eventually.TrueAsync(() => ingest.Restarts >= 2, Timeout, () => $"{ingest.Restarts} restart(s)");
        await ExecuteAsync("DROP TRIGGER refuse_writes ON event_journal");
        await Eventually.TrueAsync(() => Committed() == 30, Timeout, () => $"committed {Committed()}");
        await ingest.StopAsync();

        // One join, one assignment, no revocation while it ran; rewinds done in place.
        Assert.Equal(1, ingest.GroupJoins);
        var lines = _log.ToList();
        Assert.Single(lines, l => l.Contains("Kafka source: assigned", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Kafka source: revoked", StringComparison.Ordinal) || l.Contains("Kafka source: lost", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("in place, still a member of the group", StringComparison.Ordinal));

        // Rewound state and offsets together: each record counts once.
        var applied = 0L;
        for (var partition = 0; partition < 2; partition++)
        {
            var state = await journals.For(partition).Ask<CommittedUsers>(GetCommittedUsers.Instance, Timeout);
            applied += state.Users.Sum(u => UserStateCodec.Decode(u.State).TransactionCount);
        }

        Assert.Equal(30, applied);
    }

    public new void Dispose()
    {
        base.Dispose();
        _producer.Dispose();
        _broker.Dispose();
    }

    /// <summary>Transactions of five users, a minute apart (no alerts), starting at the <paramref name="first"/>th.</summary>
    private Task ProduceAsync(int first, int count) =>
        KafkaTestTopics.ProduceAsync(_broker.BootstrapServers, Transactions, Enumerable.Range(first, count).Select(i =>
        {
            var user = $"u{i % 5}";
            return ((string?)user, Encoding.UTF8.GetString(TransactionJson.Serialize(new Transaction(user, 10m, "shop", T0.AddMinutes(i)))));
        }));

    /// <summary>The group's committed offsets summed over both partitions (a partition with none counts 0).</summary>
    private long Committed() =>
        KafkaTestTopics.CommittedOffsets(_broker.BootstrapServers, Group, Transactions, 2, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o));

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The streams here raise no alert; one would fail the stream loudly.</summary>
    private sealed class NoAlerts : IAlertSink
    {
        public Task PublishAsync(Messages.Alerts.Alert alert, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"unexpected alert {alert.AlertId}");
    }

    private sealed class LogCollector : ReceiveActor
    {
        public LogCollector(ConcurrentQueue<string> lines) => Receive<LogEvent>(e => lines.Enqueue(e.Message?.ToString() ?? string.Empty));
    }
}
