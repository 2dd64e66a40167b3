using Akka.Configuration;
using Confluent.Kafka;
using FraudActors.Messages.Alerts;
using FraudActors.Service.Composition;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using Npgsql;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// The service as <c>fraud run</c> starts it — <see cref="FraudNode"/> on the dev settings
/// (fraud.conf, dev.conf) — in the bench's process, on a database of its own: alert ids are
/// <c>rule:partition:offset</c>, not qualified by topic, so on the bench's shared database a node
/// would take another scenario's alerts for replays and publish the rows that scenario left in
/// the outbox.
/// </summary>
internal sealed class BenchNode : IAsyncDisposable
{
    private readonly ScratchDatabase _database;

    private BenchNode(FraudNode node, ScratchDatabase database)
    {
        Node = node;
        _database = database;
    }

    public FraudNode Node { get; }

    /// <summary>The node's own database (its store's connection string).</summary>
    public string Connection => _database.Connection;

    public static async Task<BenchNode> StartAsync(BenchContext context, string bootstrap, string topic, string checkpointInterval, CancellationToken stop)
    {
        var database = await ScratchDatabase.CreateAsync(context, topic, stop).ConfigureAwait(false);
        try
        {
            var options = new Dictionary<SettingKey, string>
            {
                [SettingKeys.Bootstrap] = bootstrap,
                [SettingKeys.Group] = topic,
                [SettingKeys.TransactionsTopic] = topic,
                [SettingKeys.Store] = context.Store,
                [SettingKeys.Connection] = database.Connection,
                [SettingKeys.Http] = "127.0.0.1:0",
                [SettingKeys.CheckpointInterval] = checkpointInterval,
            };
            var settings = FraudSettings.From(SettingsLoader.Load(options, options.Keys, configFile: null, environmentName: "dev", _ => null));

            // The node's INFO lines (checkpoints, partitions) would bury the bench's own.
            settings = settings with { Hocon = ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(settings.Hocon) };
            var node = await FraudNode.StartAsync(settings, NodeOutputs.None, stop).ConfigureAwait(false);
            return new BenchNode(node, database);
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Every record up to <paramref name="ends"/> (each partition's end offset) is in a committed checkpoint.</summary>
    public bool Committed(IReadOnlyDictionary<int, long> ends)
    {
        var committed = Node.Metrics.Partitions.Snapshot().ToDictionary(p => p.Partition, p => p.CommittedOffset ?? 0);
        return ends.All(e => e.Value == 0 || committed.GetValueOrDefault(e.Key) >= e.Value);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Node.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Each partition's end offset: the records a topic holds. Fails when the dev broker dropped the oldest.</summary>
    public static Dictionary<int, long> EndOffsets(string bootstrap, string topic, int partitions, long expected)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-offsets" }).Build();
        var ends = new Dictionary<int, long>();
        for (var p = 0; p < partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, new Partition(p)), TimeSpan.FromSeconds(10));
            if (marks.Low.Value > 0)
            {
                throw new InvalidOperationException($"bench: the dev broker dropped the first {marks.Low.Value} records of {topic} [{p}] (it keeps ~5 MiB per partition): fewer transactions needed");
            }

            ends[p] = marks.High.Value;
        }

        return ends.Values.Sum() == expected
            ? ends
            : throw new InvalidOperationException($"bench: {topic} holds {ends.Values.Sum()} records, {expected} were produced");
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; <paramref name="timeout"/> ends the bench with <paramref name="what"/>.</summary>
    public static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, Func<string> what, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"bench: {what()} within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(2, stop).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Reads the alerts topic from its start on a thread of its own, as a consumer of the service
/// would, and tells when each alert arrived (a <see cref="Stopwatch"/> timestamp).
/// </summary>
internal sealed class AlertWatch : IDisposable
{
    private readonly IConsumer<Ignore, byte[]> _consumer;
    private readonly Thread _thread;
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Action<Alert, long>? _arrived;
    private volatile bool _stopping;
    private long _records;
    private long _distinct;
    private Exception? _failure;

    public AlertWatch(string bootstrap, string topic, int partitions, Action<Alert, long>? arrived = null)
    {
        _arrived = arrived;
        _consumer = MeasuringConsumer<Ignore>(bootstrap, "bench-alerts");
        _consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, new Partition(p), Offset.Beginning)));
        _thread = new Thread(Read) { IsBackground = true, Name = "bench-alerts" };
        _thread.Start();
    }

    /// <summary>Alert records read, copies included.</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Distinct alert ids read.</summary>
    public long Distinct => Interlocked.Read(ref _distinct);

    /// <summary>A consumer that hands records over as soon as they are fetched: the bench's measuring instrument.</summary>
    public static IConsumer<TKey, byte[]> MeasuringConsumer<TKey>(string bootstrap, string group) =>
        new ConsumerBuilder<TKey, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"{group}-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnablePartitionEof = false,

            // The dev broker holds an empty fetch for the whole wait, new records or not (a real
            // broker answers as soon as one arrives): short waits keep the instrument's share small.
            FetchWaitMaxMs = 5,
        }).Build();

    public void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new InvalidOperationException("bench: reading the alerts topic failed: " + failure.Message, failure);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
        _consumer.Close();
        _consumer.Dispose();
    }

    private void Read()
    {
        try
        {
            while (!_stopping)
            {
                if (_consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } record)
                {
                    continue;
                }

                var arrived = Stopwatch.GetTimestamp();
                var alert = AlertJson.Deserialize(record.Message.Value);
                Interlocked.Increment(ref _records);
                if (_ids.Add(alert.AlertId))
                {
                    Interlocked.Increment(ref _distinct);
                }

                _arrived?.Invoke(alert, arrived);
            }
        }
        catch (Exception e) when (e is KafkaException or FormatException)
        {
            _failure = e;
        }
    }
}

/// <summary>A database of one scenario's own, dropped (or deleted) at the end.</summary>
internal sealed class ScratchDatabase : IAsyncDisposable
{
    private readonly string? _file;
    private readonly (string Server, string Name)? _postgres;

    private ScratchDatabase(string connection, string? file, (string Server, string Name)? postgres)
    {
        Connection = connection;
        _file = file;
        _postgres = postgres;
    }

    public string Connection { get; }

    public static async Task<ScratchDatabase> CreateAsync(BenchContext context, string name, CancellationToken stop)
    {
        if (context.Store == JournalStore.Sqlite)
        {
            var file = Path.Combine(Path.GetTempPath(), $"fraud-bench-{name}-{Environment.ProcessId}.db");
            return new ScratchDatabase($"Data Source={file}", file, null);
        }

        var database = "fraud_bench_" + name.Replace('-', '_');
        var server = new NpgsqlConnectionStringBuilder(context.Connection);
        try
        {
            await using var connection = new NpgsqlConnection(context.Connection);
            await connection.OpenAsync(stop).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await command.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            throw new InvalidOperationException($"bench: cannot create the database {database} on {server.Host}:{server.Port} as {server.Username}: {e.MessageText}; the scenario needs a role that may CREATE DATABASE", e);
        }

        return new ScratchDatabase(new NpgsqlConnectionStringBuilder(context.Connection) { Database = database }.ConnectionString, null, (context.Connection, database));
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            // FILE.lock is the node's ownership of the file (SqliteOwnership), gone with the node: the bench's files leave with it.
            foreach (var path in new[] { _file, _file + "-wal", _file + "-shm", _file + ".lock" })
            {
                File.Delete(path);
            }
        }

        if (_postgres is { } postgres)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(postgres.Server);
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{postgres.Name}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }
}
