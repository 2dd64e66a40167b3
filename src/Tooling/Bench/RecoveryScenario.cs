using System.Text.Json;
using Confluent.Kafka;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Service.Configuration;
using Npgsql;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Start-up with many users' state in the journals: the journals of three partitions filled
/// with <c>users</c> users, then a new actor system is started and timed until every partition
/// journal has recovered and until the first record is processed by a user that loads its
/// state (the in-process path, without Kafka), and then the whole way: a <c>fraud run</c>
/// process started against the dev broker whose topic holds a backlog of <c>backlog</c> records
/// after the checkpoint, killed with SIGKILL at its first record (the prefilled journals stand
/// for what earlier runs committed), and started again: the restart is timed from its start to
/// its log line "First record processed",
/// to having read the whole backlog (its <c>/partitions</c> at the end offsets) and to zero lag
/// (the consumer group's committed offsets at the end of every partition). Between the two,
/// 20,000 random users start and load their state: the store's read latency and the cache's hit
/// rate. Baseline: reading every user's state from the store with one plain SELECT, what a
/// recovery that loaded every user would at least cost (docs/design.md, "State beyond memory").
/// </summary>
public sealed class RecoveryScenario(int users, int backlog) : IBenchScenario
{
    private const int Partitions = 3;
    private const int UsersPerCheckpoint = 50_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public string Name => "recovery";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        var topic = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var fill = await BenchData.TimeAsync(async () =>
        {
            var system = BenchData.StartSystem(context, "bench-fill");
            try
            {
                var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());
                var epoch = 0L;
                foreach (var batch in Enumerable.Range(0, users).Chunk(UsersPerCheckpoint))
                {
                    stop.ThrowIfCancellationRequested();
                    epoch++;
                    // Users with state but no offset of their own yet, committed at offset 0: a topic
                    // of the dev broker can then hold the first record after the checkpoint.
                    var writes = batch.GroupBy(i => i % Partitions).Select(p =>
                        journals.For(p.Key).Ask<CheckpointWritten>(new WriteCheckpoint(epoch, 0, [.. p.Select(i => BenchData.User(i, -1))]), Timeout));
                    await Task.WhenAll(writes).ConfigureAwait(false);
                }

                // Until the state store holds every commit: a restarted node then replays no chunk.
                var store = UserStateStores.For(system).Store;
                var ids = Enumerable.Range(0, Partitions).Select(p => PartitionJournal.PersistenceIdFor(topic, p)).ToList();
                while ((await Task.WhenAll(ids.Select(id => store.ReadMarkAsync(id, stop))).ConfigureAwait(false)).Sum(m => m.Users) < users)
                {
                    await Task.Delay(100, stop).ConfigureAwait(false);
                }
            }
            finally
            {
                await system.Terminate().ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        context.Say($"recovery: {users} users written to the journals of {Partitions} partitions in {fill / 1000:0.0} s");

        // The measured start: a new actor system, as a restarted node has.
        var clock = Stopwatch.StartNew();
        var restarted = BenchData.StartSystem(context, "bench-recover");
        try
        {
            var journals = new PartitionJournals(restarted, topic, new PartitionJournalSettings());
            var checkpoints = await Task.WhenAll(Enumerable.Range(0, Partitions).Select(p =>
                journals.For(p).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout))).ConfigureAwait(false);
            var recovered = clock.Elapsed.TotalMilliseconds;

            // The first record after the checkpoint: its user starts, loads its state, applies it.
            var user = BenchData.UserId(0);
            var actor = restarted.ActorOf(UserActor.PropsFor(user, RuleSettings.Default, TimeProvider.System, journals));
            var applied = await actor.Ask<TransactionApplied>(new ApplyTransaction(0, checkpoints[0].NextOffset!.Value, BenchData.Transaction(user, 60)), Timeout).ConfigureAwait(false);
            var first = clock.Elapsed.TotalMilliseconds;
            if (applied.Duplicate || checkpoints.Sum(c => c.Users) != users)
            {
                throw new InvalidOperationException($"recovery bench: {checkpoints.Sum(c => c.Users)} users recovered of {users}, first record duplicate={applied.Duplicate}");
            }

            var reads = await ReadUsersAsync(restarted, journals, stop).ConfigureAwait(false);
            await restarted.Terminate().ConfigureAwait(false);
            var process = await ProcessAsync(context, topic, stop).ConfigureAwait(false);
            var baseline = await SelectBaselineAsync(context, topic).ConfigureAwait(false);
            context.Figure(Name, "users", users);
            context.Figure(Name, "journal_recovery_ms", recovered);
            context.Figure(Name, "first_record_ms", first);
            context.Figure(Name, "process_first_record_ms", process.FirstRecord);
            context.Figure(Name, "backlog_records", backlog);
            context.Figure(Name, "caught_up_ms", process.CaughtUp);
            context.Figure(Name, "zero_lag_ms", process.ZeroLag);
            context.Figure(Name, "backlog_records_per_s", backlog / ((process.CaughtUp - process.FirstRecord) / 1000));
            context.Figure(Name, "users_per_s", users / (recovered / 1000));
            context.Figure(Name, "fill_s", fill / 1000);
            context.Figure(Name, "store_read_mean_ms", reads.MeanMs);
            context.Figure(Name, "load_p50_ms", reads.P50Ms);
            context.Figure(Name, "load_p99_ms", reads.P99Ms);
            context.Figure(Name, "cache_hit_rate", reads.HitRate);
            context.Line(
                Name,
                [
                    ("users", users),
                    ("journal_recovery_ms", recovered),
                    ("first_record_ms", first),
                    ("process_first_record_ms", process.FirstRecord),
                    ("backlog_records", backlog),
                    ("caught_up_ms", process.CaughtUp),
                    ("zero_lag_ms", process.ZeroLag),
                    ("fill_s", fill / 1000),
                    ("sampled_users", SampledUsers),
                    ("store_read_mean_ms", reads.MeanMs),
                    ("store_read_users_per_batch", reads.UsersPerBatch),
                    ("load_p50_ms", reads.P50Ms),
                    ("load_p99_ms", reads.P99Ms),
                    ("cache_hit_rate", reads.HitRate),
                    .. context.Baseline(Name, string.Empty, "baseline_select_ms", recovered, baseline),
                ]);
        }
        finally
        {
            await restarted.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A <c>fraud run</c> process on the filled journals, reading the journals' topic from a dev
    /// broker that holds the backlog: milliseconds from starting the process to its first record
    /// processed, to having read every record, and to the group's committed offsets at the end.
    /// Committed offsets move at checkpoints (every 10 s by default), so zero lag trails the
    /// catching up by up to one interval and a checkpoint.
    /// </summary>
    private async Task<(double FirstRecord, double CaughtUp, double ZeroLag)> ProcessAsync(BenchContext context, string topic, CancellationToken stop)
    {
        var topics = new TopicNames(topic, "alerts", "transactions.dlq");
        using var broker = Service.Cli.BrokerCommand.Start(topics, Partitions);
        var ends = ProduceBacklog(broker.BootstrapServers, topic);
        var group = "bench-" + topic;
        var environment = new Dictionary<string, string>
        {
            ["FRAUD_BOOTSTRAP"] = broker.BootstrapServers,
            ["FRAUD_TOPIC"] = topic,
            ["FRAUD_GROUP"] = group,
            ["FRAUD_STORE"] = context.Store,
            ["FRAUD_CONNECTION"] = context.Connection,

            // The dev broker's settings (hocon/dev.conf): its 6 s session timeout is how long the
            // killed node's group member holds the partitions (librdkafka's default is 45 s).
            ["FRAUD_ENV"] = "dev",
        };
        // A node that is killed: it recovers the journals, starts reading the backlog, and gets
        // SIGKILL at its first record (no handler runs, nothing is flushed, its group member
        // stays until the broker's session timeout). The node timed below is its restart.
        using (var killed = Drill.ServiceProcess.Start(environment, "run"))
        {
            var started = Stopwatch.StartNew();
            while (!killed.StandardError.Any(l => l.Contains("First record processed", StringComparison.Ordinal)))
            {
                if (killed.HasExited || started.Elapsed > Timeout)
                {
                    throw new InvalidOperationException("recovery bench: the node to be killed processed no record:\n" + string.Join('\n', killed.StandardError.TakeLast(20)));
                }

                await Task.Delay(5, stop).ConfigureAwait(false);
            }

            killed.KillHard();
        }

        var clock = Stopwatch.StartNew();
        using var service = Drill.ServiceProcess.Start(environment, "run");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        double? first = null, caughtUp = null, zeroLag = null;
        while (zeroLag is null)
        {
            if (service.HasExited || clock.Elapsed > Timeout)
            {
                throw new InvalidOperationException($"recovery bench: the service did not reach zero lag (first record {first} ms, caught up {caughtUp} ms):\n" + string.Join('\n', service.StandardError.TakeLast(20)));
            }

            if (first is null && service.StandardError.Any(l => l.Contains("First record processed", StringComparison.Ordinal)))
            {
                first = clock.Elapsed.TotalMilliseconds;
            }

            if (first is not null && caughtUp is null && await ReadToEndAsync(http, service, ends, stop).ConfigureAwait(false))
            {
                caughtUp = clock.Elapsed.TotalMilliseconds;
            }

            if (caughtUp is not null && TopicReader.CommittedOffsets(broker.BootstrapServers, group, topic, Partitions, TimeSpan.FromSeconds(10)).All(c => c.Value >= ends[c.Key]))
            {
                zeroLag = clock.Elapsed.TotalMilliseconds;
            }

            await Task.Delay(first is null ? 5 : 100, stop).ConfigureAwait(false);
        }

        await service.InterruptAsync(Timeout).ConfigureAwait(false);
        return (first!.Value, caughtUp!.Value, zeroLag.Value);
    }

    /// <summary>
    /// The backlog after the checkpoint: one record each of users with state in the journals (user
    /// i on partition i mod 3, where the journals hold it), keyed by user id. Returns each
    /// partition's end offset.
    /// </summary>
    private Dictionary<int, long> ProduceBacklog(string bootstrap, string topic)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 20 }).Build();
        for (var i = 0; i < backlog; i++)
        {
            var user = BenchData.UserId(i % users);
            var tx = BenchData.Transaction(user, 60 + (i / 1000));
            producer.Produce(new TopicPartition(topic, new Partition(i % users % Partitions)), new Message<byte[]?, byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(user), Value = TransactionJson.Serialize(tx) });
        }

        producer.Flush(Timeout);
        using var ends = new KafkaEndOffsets(bootstrap);
        var offsets = ends.Query(topic, Enumerable.Range(0, Partitions), TimeSpan.FromSeconds(10)).ToDictionary();
        if (offsets.Values.Sum() != backlog)
        {
            throw new InvalidOperationException($"recovery bench: the topic holds {offsets.Values.Sum()} records of the {backlog} produced (the dev broker keeps ~5 MiB per partition)");
        }

        return offsets;
    }

    /// <summary>Whether the node's <c>/partitions</c> shows every partition read to its end (its address is in its log).</summary>
    private static async Task<bool> ReadToEndAsync(HttpClient http, Drill.ServiceProcess service, Dictionary<int, long> ends, CancellationToken stop)
    {
        const string Bound = "HTTP API and dashboard on ";
        if (service.StandardError.FirstOrDefault(l => l.Contains(Bound, StringComparison.Ordinal)) is not { } line)
        {
            return false;
        }

        var address = line[(line.IndexOf(Bound, StringComparison.Ordinal) + Bound.Length)..].Trim().TrimEnd('/');
        using var response = await http.GetAsync(new Uri(address + "/partitions"), stop).ConfigureAwait(false);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(stop).ConfigureAwait(false));
        var read = body.RootElement.GetProperty("partitions").EnumerateArray()
            .Where(p => p.GetProperty("current_offset").ValueKind == JsonValueKind.Number)
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("current_offset").GetInt64());
        return ends.All(e => e.Value == 0 || (read.TryGetValue(e.Key, out var offset) && offset >= e.Value));
    }

    private const int SampledUsers = 20_000;

    /// <summary>
    /// The users' starts after recovery, as a stream of many quiet users makes them: 20,000
    /// users picked at random start and load their state (only in the store after a restart: the
    /// journal reads them in batches), then the same users again in another order (from the
    /// cache now, as far as it holds them). Each load is timed as a user sees it, 256 at a time.
    /// </summary>
    private async Task<(double MeanMs, double UsersPerBatch, double P50Ms, double P99Ms, double HitRate)> ReadUsersAsync(ActorSystem system, PartitionJournals journals, CancellationToken stop)
    {
        var stores = UserStateStores.For(system);
        var random = new Random(42);
        var sample = Enumerable.Range(0, SampledUsers).Select(_ => random.Next(users)).Distinct().ToList();
        var (readsBefore, timeBefore, usersBefore) = (stores.Reads.Count, stores.Reads.Time, stores.Reads.Users);
        var (hitsBefore, missesBefore) = stores.Cache.Reads;
        var loads = new List<double>();
        foreach (var round in new[] { sample, [.. sample.OrderBy(_ => random.Next())] })
        {
            foreach (var window in round.Chunk(256))
            {
                stop.ThrowIfCancellationRequested();
                var timed = window.Select(async i =>
                {
                    var clock = Stopwatch.StartNew();
                    var loaded = await journals.For(i % Partitions).Ask<UserLoaded>(new LoadUser(BenchData.UserId(i)), Timeout).ConfigureAwait(false);
                    return loaded.State is null ? throw new InvalidOperationException($"recovery bench: user {i} has no state in the store") : clock.Elapsed.TotalMilliseconds;
                });
                loads.AddRange(await Task.WhenAll(timed).ConfigureAwait(false));
            }
        }

        var reads = stores.Reads.Count - readsBefore;
        var (hits, misses) = stores.Cache.Reads;
        loads.Sort();
        return (
            reads == 0 ? 0 : (stores.Reads.Time - timeBefore).TotalMilliseconds / reads,
            reads == 0 ? 0 : (stores.Reads.Users - usersBefore) / (double)reads,
            loads[loads.Count / 2],
            loads[(int)(loads.Count * 0.99)],
            (hits - hitsBefore) / (double)Math.Max(1, hits - hitsBefore + misses - missesBefore));
    }

    /// <summary>The floor under loading every user: the users' states read from the store with one SELECT, bytes only. Null on SQLite.</summary>
    private static async Task<double?> SelectBaselineAsync(BenchContext context, string topic)
    {
        if (context.Store != JournalStore.Postgres)
        {
            return null;
        }

        await using var connection = new NpgsqlConnection(context.Connection);
        await connection.OpenAsync().ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await using var command = new NpgsqlCommand("SELECT state FROM fraud_user_state WHERE journal = ANY(@ids)", connection);
        command.Parameters.AddWithValue("ids", Enumerable.Range(0, Partitions).Select(p => PartitionJournal.PersistenceIdFor(topic, p)).ToArray());
        var bytes = 0L;
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                bytes += ((byte[])reader[0]).Length;
            }
        }

        return bytes > 0 ? clock.Elapsed.TotalMilliseconds : null;
    }
}
