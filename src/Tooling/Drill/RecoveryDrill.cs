using FraudActors.Engine.Alerts;
using FraudActors.Engine.Configuration;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Windows;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;
using FraudActors.Service.Cli;
using FraudActors.Service.Configuration;
using FraudActors.Service.Producing;
using FraudActors.Testkit;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// What a drill's stream ended as: every valid record where it landed (flush records included)
/// and the window results it must give.
/// </summary>
public sealed record DrillStream(List<(int Partition, long Offset, Transaction Transaction)> Records, List<WindowReference.Expected> ExpectedWindows)
{
    /// <summary>Records on the topic, hostile ones included: what the group commits once it read everything.</summary>
    public long OnTopic { get; init; } = Records.Count;
}

/// <summary>
/// What the recovery drill does whatever it kills, one service or a cluster of them: the dev
/// broker with the topics, the seeded stream produced while the services run, the services'
/// command line and environment, the flush records that end the stream, and the comparison of
/// the alerts, window results and users' counts with references computed from the input.
/// </summary>
public sealed class RecoveryDrill : IDisposable
{
    public const string Group = "fraud-drill";
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private static readonly TopicNames Names = new("transactions", "alerts", "transactions.dlq");

    private readonly DevBroker _broker;
    private readonly ConsoleProgress _progress;
    private readonly WindowSettings _windows;
    private readonly TimeSpan _outOfOrderness;
    private Task<ProduceSummary>? _producing;
    private StreamRecorder? _recorder;

    private RecoveryDrill(DevBroker broker, int count, int seed, int partitions, string store, string connection, ConsoleProgress progress, double? hostileShare)
    {
        HostileShare = hostileShare;
        _broker = broker;
        _progress = progress;
        Count = count;
        Seed = seed;
        Partitions = partitions;
        Store = store;
        Connection = connection;

        // The windows are the service's own configuration (hocon/fraud.conf under FRAUD_ENV=dev);
        // event time and its watermark bound are pinned on its command line, so that FRAUD_*
        // variables in the drill's environment cannot make the service differ from the reference.
        var configured = FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [], null, "dev", System.Environment.GetEnvironmentVariable));
        _windows = configured.Windows;
        _outOfOrderness = TimeSpan.FromMilliseconds(configured.Time.Watermarks.OutOfOrdernessMs);
        Run = ["run", "--checkpoint-interval", "500ms", "--time", "event-time", .. _outOfOrderness > TimeSpan.Zero ? ["--out-of-orderness", Durations.Format(_outOfOrderness)] : Array.Empty<string>()];
        Environment = new Dictionary<string, string>
        {
            ["FRAUD_ENV"] = "dev",
            ["FRAUD_GROUP"] = Group,
            ["FRAUD_BOOTSTRAP"] = broker.BootstrapServers,
            ["FRAUD_STORE"] = store,
            ["FRAUD_CONNECTION"] = connection,
        };
    }

    public int Count { get; }

    public int Seed { get; }

    /// <summary>The share of hostile records mixed into the stream (<c>fraud produce --hostile-share</c>); null: none.</summary>
    public double? HostileShare { get; }

    /// <summary>Partitions of every topic: records, flush records, committed offsets and journals are counted over them.</summary>
    public int Partitions { get; }

    public string Store { get; }

    public string Connection { get; }

    public string Bootstrap => _broker.BootstrapServers;

    public TopicNames Topics => Names;

    /// <summary>The service's command line (<c>run</c> and its options), the same for every service the drill starts.</summary>
    public IReadOnlyList<string> Run { get; }

    /// <summary>The service's environment: the dev configuration, the drill's group, broker and store.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Starts the dev broker with <paramref name="partitions"/> partitions per topic and says where it and the store are.</summary>
    public static RecoveryDrill Start(int count, int seed, int partitions, string store, string connection, bool ownPostgres, ConsoleProgress progress, double? hostileShare = null)
    {
        var broker = BrokerCommand.Start(Names, partitions);
        progress.Say($"dev broker at {broker.BootstrapServers}; store {store}{(ownPostgres ? " (a PostgreSQL server of its own)" : string.Empty)}");
        return new RecoveryDrill(broker, count, seed, partitions, store, connection, progress, hostileShare);
    }

    /// <summary>Starts producing the seeded stream, <paramref name="pace"/> transactions a second, while the services run.</summary>
    public void Produce(double pace, CancellationToken stop)
    {
        var options = new GeneratorOptions(Seed, Users: 5000, Rate: 40, ProduceCommand.SeededStart, Count);
        var valid = new TransactionGenerator(options).Generate();

        // The dev broker keeps ~5 MiB of a partition, and a node killed and restarted must still
        // find every record it has not checkpointed: the 1 MiB values and 128 KiB keys stay out
        // (HostileInputTests sends them to the service).
        var records = HostileShare is { } share
            ? new HostileRecords(Seed, share).Mix(valid).Where(r => r.Header(HostileRecords.KindHeader) is not ("one-megabyte" or "key-over-limit"))
            : valid.Select(TransactionGenerator.ToRecord).Select(OutgoingRecord.Of);
        _recorder = new StreamRecorder(Bootstrap, Names.Transactions, Partitions);
        _producing = TransactionProducer.RunAsync(Bootstrap, Names.Transactions, records, pace, maxSpeed: false, progress: null, stop);
        _progress.Say(string.Create(CultureInfo.InvariantCulture, $"producing {Count} transactions (seed {Seed}) at {pace:0} per second{(HostileShare is { } mixed ? $", with hostile records mixed in ({mixed:0.##} of the stream)" : string.Empty)}"));
    }

    /// <summary>Records of the transactions topic the group has committed, over all partitions.</summary>
    public long Committed() =>
        TopicReader.CommittedOffsets(Bootstrap, Group, Names.Transactions, Partitions, TimeSpan.FromSeconds(10)).Values.Sum(o => Math.Max(0, o));

    /// <summary>
    /// Waits for the producer, then ends the stream with a flush record to each partition (every
    /// partition's watermark then passes every real window) and computes the window results due.
    /// </summary>
    public async Task<DrillStream> EndStreamAsync(CancellationToken stop)
    {
        var summary = await (_producing ?? throw new InvalidOperationException("the stream was not started")).ConfigureAwait(false);
        var parser = new TransactionParser();
        var onTopic = await _recorder!.AllAsync(Timeout, stop).ConfigureAwait(false);

        // A hostile record says so in a header: the references count the valid ones and the odd
        // but valid hostile ones (expected reason "accepted"), at the offsets they landed at.
        var hostile = onTopic.Count(r => r.Message.Headers?.TryGetLastBytes(HostileRecords.KindHeader, out _) == true);
        var accepted = onTopic.Where(r => r.Message.Headers?.TryGetLastBytes(HostileRecords.ExpectedReasonHeader, out var reason) == true
            && System.Text.Encoding.UTF8.GetString(reason) == HostileRecords.Accepted).ToHashSet();
        var records = onTopic
            .Where(r => r.Message.Headers?.TryGetLastBytes(HostileRecords.KindHeader, out _) != true || accepted.Contains(r))
            .Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, r.Message.Key is not null, r.Message.Value).Transaction!))
            .ToList();
        var real = onTopic.Count - hostile;
        var flush = await FlushRecords.ProduceAsync(Bootstrap, Names.Transactions, Partitions, records.Select(t => t.Item3.Timestamp).DefaultIfEmpty(ProduceCommand.SeededStart).Max(), stop).ConfigureAwait(false);
        records.AddRange(flush);
        _progress.Say($"producer done: {summary}; {real} transactions on the topic{(hostile > 0 ? $" and {hostile} hostile records ({accepted.Count} of them odd but valid)" : string.Empty)}, then a flush record to each of its {Partitions} partitions at {TransactionJson.FormatTimestamp(flush[0].Transaction.Timestamp)}");
        var expectedWindows = _windows.Any ? WindowResultsCheck.Expected(records, _outOfOrderness, _windows) : [];
        _progress.Say(string.Create(CultureInfo.InvariantCulture, $"window results expected: {expectedWindows.Count} ({WindowResultsCheck.Describe(_windows)}; watermark {_outOfOrderness.TotalSeconds:0.###} s behind the newest ts of a partition)"));
        return new DrillStream(records, expectedWindows) { OnTopic = onTopic.Count + flush.Count };
    }

    /// <summary>Once the services caught up: waits until the window result topics hold every result due, or says they did not.</summary>
    public async Task WaitForWindowResultsAsync(DrillStream stream, string phase, CancellationToken stop)
    {
        if (!_windows.Any)
        {
            return;
        }

        var expected = stream.ExpectedWindows.Count;
        var caughtUp = await WindowResultsCheck.WaitAsync(
            Bootstrap,
            WindowTopics,
            expected,
            Timeout,
            published => _progress.Report($"{phase}: waiting for the window results", (double)published / Math.Max(1, expected)),
            stop).ConfigureAwait(false);
        if (!caughtUp)
        {
            _progress.Say($"the window result topics did not reach {expected} distinct results within {Timeout}");
        }
    }

    /// <summary>
    /// Once every service stopped: compares the alerts topic and table, the window result topics
    /// and table, and every user's checkpointed count with the references, a line each; returns
    /// whether any differed and, when none did, what agreed (for the DRILL PASSED line).
    /// </summary>
    public async Task<(bool Failed, string Agreed)> CompareAsync(DrillStream stream, CancellationToken stop)
    {
        _progress.Report("comparing with the reference", 1);
        var transactions = stream.Records;
        var expected = AlertReference.SlidingVelocityIds(transactions);
        var onTopic = TopicReader.ReadAll(Bootstrap, Names.Alerts, Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList();
        var table = OutboxTable.Open(Store, Connection, AlertCodec.For(Names.Alerts));
        var inTable = await table.IdsAsync(stop).ConfigureAwait(false);
        var counts = CountReference.Expected(transactions.Select(t => t.Item3));
        var state = await JournalReader.ReadUsersAsync(Store, Connection, Names.Transactions, Partitions, Timeout).ConfigureAwait(false);

        var failed = DrillReport.Alerts("alerts topic", expected, onTopic) | DrillReport.Alerts("alerts table", expected, inTable);
        if (_windows.Any)
        {
            var results = WindowResultsCheck.Read(Bootstrap, WindowTopics, Timeout);
            var resultTable = WindowResultStore();
            var tableIds = resultTable is null ? null : await resultTable.IdsAsync(stop).ConfigureAwait(false);
            var (total, published) = resultTable is null ? (0, 0) : await resultTable.CountAsync(stop).ConfigureAwait(false);
            failed |= DrillReport.WindowTopics(stream.ExpectedWindows, results, Names);
            failed |= tableIds is not null && DrillReport.WindowTable(stream.ExpectedWindows, tableIds, total - published);
        }
        else
        {
            Console.WriteLine("window results: no window is configured");
        }

        failed |= DrillReport.Counts(counts, state);
        return (failed, $"{expected.Count} alerts, none duplicated, none missing; {stream.ExpectedWindows.Count} window results, none duplicated, none missing, none wrong; {counts.Count} users' transaction counts as the input");
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; no progress within <see cref="Timeout"/> ends the drill.</summary>
    public static async Task WaitAsync(Func<bool> condition, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"drill: no progress within {Timeout}");
            }

            await Task.Delay(100, stop).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _recorder?.Dispose();
        _broker.Dispose();
    }

    private string[] WindowTopics => [Names.WindowCounts, Names.Sessions];

    /// <summary>The <c>window_results</c> table of the store; none for the memory store, whose table died with the service.</summary>
    private IOutboxTable<WindowResult>? WindowResultStore() =>
        Store == JournalStore.Memory ? null : OutboxTable.Open(Store, Connection, WindowResultCodec.For(Names.WindowCounts, Names.Sessions));
}
