using Akka;
using Akka.Cluster.Sharding;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using FraudActors.Engine.Composition;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Service.Configuration;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// Memory, two ways. <b>Resident</b>: users started through the real shard region (user actors
/// with partition journals, one transaction each), then the managed heap after a full GC, per
/// resident user; the same measured for a bare actor and for the user actor without sharding, so
/// the bytes can be attributed. Baseline: the same users' <see cref="UserState"/>s in a plain
/// dictionary. <b>Passivation</b>: one record each of many distinct users through the service's
/// pipeline (as the engine scenario runs it) with a short idle time before users passivate and
/// checkpoints running: the heap and the resident users sampled every second, the live heap at
/// each quarter of the stream, and at the end once every user has passivated. Baseline: the same
/// users' encoded states in a dictionary, which is what a partition journal kept of each user before its states went to the store (docs/design.md, "State beyond memory").
/// The quarters are taken at the first one-second sample at or past each quarter.
/// </summary>
public sealed class MemoryScenario(int residentUsers, int streamUsers) : IBenchScenario
{
    /// <summary>Users started at once.</summary>
    private const int StartWindow = 2048;

    private const int Partitions = 3;
    private const int WarmUp = 1_000;
    private const double MiB = 1024 * 1024;
    private static readonly TimeSpan PassivateAfter = TimeSpan.FromSeconds(2);

    /// <summary>The node's state cache in the stream (<c>fraud.state.cache-bytes</c>): what memory keeps of users it no longer runs.</summary>
    private const long CacheBytes = 16L << 20;
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private static readonly UserSettings Settings = new(RuleSettings.Default);

    public string Name => "memory";

    public async Task RunAsync(BenchContext context, CancellationToken stop)
    {
        await ResidentAsync(context, stop).ConfigureAwait(false);
        await PassivationAsync(context, stop).ConfigureAwait(false);
    }

    private async Task ResidentAsync(BenchContext context, CancellationToken stop)
    {
        context.Say(string.Create(CultureInfo.InvariantCulture, $"memory: {residentUsers} resident users (after {WarmUp} warm-up users), one transaction each, heap after a full GC"));
        var baseline = BaselineStates(residentUsers);
        var system = BenchData.StartClusterSystem(context, "bench-memory", passivateIdleAfter: "off");
        try
        {
            await BenchData.JoinSelfAsync(system, stop).ConfigureAwait(false);
            var topic = "memory-" + Guid.NewGuid().ToString("N")[..8];
            var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());

            // A bare actor (cell, mailbox, path): what any actor costs.
            var bare = await BytesPerAsync(0, i => system.ActorOf(Props.Create(() => new BareActor()), "bare-" + BenchData.UserId(i)).Ask<ActorIdentity>(new Identify(null), Timeout), stop).ConfigureAwait(false);

            // The user actor outside sharding: its fields, handlers, stash and state on top.
            var unsharded = await BytesPerAsync(2 * (WarmUp + residentUsers), i =>
            {
                var id = BenchData.UserId(i);
                return system.ActorOf(UserActor.PropsFor(id, Settings, TimeProvider.System, journals), id).Ask<TransactionApplied>(Apply(id, i), Timeout);
            }, stop).ConfigureAwait(false);

            // Through the shard region, as the service runs users: the shard's maps on top.
            var region = await StartRegionAsync(system, journals, passivate: false).ConfigureAwait(false);
            var sharded = await BytesPerAsync(4 * (WarmUp + residentUsers), i =>
            {
                var id = BenchData.UserId(i);
                return region.Ask<TransactionApplied>(Apply(id, i), Timeout);
            }, stop).ConfigureAwait(false);
            var resident = ResidentUsers(region);
            if (resident != WarmUp + residentUsers)
            {
                context.Say($"memory: {resident} users resident in the shard region, {WarmUp + residentUsers} started: the figure is per started user");
            }

            context.Figure(Name, "resident_users", residentUsers);
            context.Figure(Name, "bytes_per_user_actor", sharded);
            context.Figure(Name, "baseline_bytes_per_user", baseline);
            context.Figure(Name, "ratio", sharded / baseline);
            context.Figure(Name, "bytes_per_bare_actor", bare);
            context.Figure(Name, "bytes_per_unsharded_user_actor", unsharded);
            context.Line(
                Name,
                ("resident_users", residentUsers),
                ("bytes_per_user_actor", Math.Round(sharded)),
                ("baseline_bytes_per_user", Math.Round(baseline)),
                ("ratio", sharded / baseline),
                ("bare_actor", Math.Round(bare)),
                ("unsharded_user_actor", Math.Round(unsharded)),
                ("sharding", Math.Round(sharded - unsharded)));
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>Live heap growth per actor started by <paramref name="start"/>, after <see cref="WarmUp"/> of them (JIT, first allocations of the maps).</summary>
    private async Task<double> BytesPerAsync<T>(int first, Func<int, Task<T>> start, CancellationToken stop)
    {
        await BenchData.ForAllAsync(first, WarmUp, StartWindow, start, stop).ConfigureAwait(false);

        // What earlier scenarios left (actor systems ending, finalizers) may still be freed: the
        // heap is taken once it stops shrinking, or the growth could come out below zero.
        var before = LiveHeap();
        for (var settled = LiveHeap(); settled < before && !stop.IsCancellationRequested; settled = LiveHeap())
        {
            before = settled;
        }

        await BenchData.ForAllAsync(first + WarmUp, residentUsers, StartWindow, start, stop).ConfigureAwait(false);
        return (LiveHeap() - before) / (double)residentUsers;
    }

    /// <summary>The same users' states, each after its one transaction, in a dictionary: what the state alone costs.</summary>
    private static double BaselineStates(int users)
    {
        var now = DateTimeOffset.UtcNow;
        var before = LiveHeap();
        var states = new Dictionary<string, UserState>(StringComparer.Ordinal);
        for (var i = 0; i < users; i++)
        {
            var id = BenchData.UserId(i);
            states[id] = UserState.Empty(id).Apply(Apply(id, i), Settings, now).State;
        }

        var bytes = (LiveHeap() - before) / (double)users;
        GC.KeepAlive(states);
        return bytes;
    }

    private async Task PassivationAsync(BenchContext context, CancellationToken stop)
    {
        context.Say(string.Create(CultureInfo.InvariantCulture, $"memory: a stream of {streamUsers} distinct users, one record each, users passivated after {PassivateAfter.TotalSeconds:0} s idle, checkpoints every {CheckpointInterval.TotalSeconds:0} s on {context.Store}, a state cache of {CacheBytes / MiB:0} MiB"));
        var (journalBaseline, stateBytes) = BaselineEncoded(streamUsers);
        var topic = "memory-" + Guid.NewGuid().ToString("N")[..8];
        var system = BenchData.StartClusterSystem(context, "bench-memory-stream", passivateIdleAfter: (long)PassivateAfter.TotalMilliseconds + "ms", config: $"fraud.state.cache-bytes = {CacheBytes}");
        using var broker = Service.Cli.BrokerCommand.Start(new TopicNames(topic, "alerts", "transactions.dlq"), Partitions);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        try
        {
            await BenchData.JoinSelfAsync(system, stop).ConfigureAwait(false);
            var journals = new PartitionJournals(system, topic, new PartitionJournalSettings());
            var region = await StartRegionAsync(system, journals, passivate: true).ConfigureAwait(false);
            var history = new CheckpointHistory(100);
            var metrics = new PipelineMetrics();
            var pipeline = new JobPipeline(
                region,
                journals,
                new NoAlerts(),
                new DeadLetterPublisher(producer, "transactions.dlq"),
                new CheckpointSettings(CheckpointInterval, TimeSpan.FromSeconds(60), 100),
                history,
                metrics,
                system.Log).Build();

            // Records are made as the stream takes them, so they do not sit in the heap measured; the
            // source then stays open, as Kafka's does, so checkpoints and passivation go on after it.
            var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, new Partition(p))).ToList();
            var source = Source.Single<SourceEvent>(new PartitionsAssigned(partitions))
                .Concat(Source.From(Records(topic)))
                .Concat(Source.Never<SourceEvent>());
            var before = LiveHeap();
            var clock = Stopwatch.StartNew();
            var run = pipeline.Run(source, new NoConsumerGroup(), topic, system.Materializer(), generation: 1);

            // Sampled every second: the heap as the process sees it (garbage included) and the
            // resident users; at each quarter of the stream the live heap, after a full GC.
            var peakHeap = 0L;
            var peakResident = 0;
            var quarters = new List<(int Percent, double Share, long Heap, int Resident)>();
            using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (quarters.Count < 4)
            {
                await tick.WaitForNextTickAsync(stop).ConfigureAwait(false);
                Fail(run, clock);
                var resident = ResidentUsers(region);
                peakResident = Math.Max(peakResident, resident);
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                var applied = metrics.Applied;
                while (quarters.Count < 4 && applied >= streamUsers * (quarters.Count + 1) / 4)
                {
                    // Not compacted: moving a large heap on 2 cores stalls the stream (and once its journal writes) for seconds.
                    var heap = MarkedHeap();
                    quarters.Add((25 * (quarters.Count + 1), (double)applied / streamUsers, heap, resident));
                    context.Say(string.Create(CultureInfo.InvariantCulture, $"memory: {applied} of {streamUsers} users streamed in {clock.Elapsed.TotalSeconds:0} s: live heap {heap / MiB:0} MB, {resident} users resident"));
                }
            }

            var streamed = clock.Elapsed.TotalSeconds;

            // Then until every partition's last record is committed and every user has passivated
            // again: what stays is what the node keeps of users it no longer runs.
            var ends = Enumerable.Range(0, streamUsers).GroupBy(i => (int)(UserMessageRouter.StableHash(BenchData.UserId(i)) % Partitions)).ToDictionary(g => g.Key, g => (long)g.Count());
            while (!(ends.All(e => history.Snapshot().Any(c => c.Partition == e.Key && c.NextOffset == e.Value && c.Status == CheckpointStatus.Completed)) && ResidentUsers(region) == 0))
            {
                await tick.WaitForNextTickAsync(stop).ConfigureAwait(false);
                Fail(run, clock);
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            }

            var final = LiveHeap();
            var settled = clock.Elapsed.TotalSeconds;
            var stores = Engine.Checkpoints.Store.UserStateStores.For(system);
            var (hits, misses) = stores.Cache.Reads;
            var hitRate = hits / (double)Math.Max(1, hits + misses);
            var readMeanMs = stores.Reads.Count == 0 ? 0 : stores.Reads.Time.TotalMilliseconds / stores.Reads.Count;
            var checkpoints = await Task.WhenAll(Enumerable.Range(0, Partitions).Select(p => journals.For(p).Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, Timeout))).ConfigureAwait(false);
            var committed = checkpoints.Sum(c => c.Users);
            var perUser = (final - before) / (double)streamUsers;
            context.Figure(Name, "stream_users", streamUsers);
            context.Figure(Name, "stream_tx_per_s", streamUsers / streamed);
            context.Figure(Name, "peak_resident_users", peakResident);
            context.Figure(Name, "peak_heap_mb", peakHeap / MiB);
            foreach (var (percent, _, heap, resident) in quarters)
            {
                context.Figure(Name, string.Create(CultureInfo.InvariantCulture, $"heap_{percent}_mb"), heap / MiB);
                context.Figure(Name, string.Create(CultureInfo.InvariantCulture, $"resident_{percent}"), resident);
            }

            context.Figure(Name, "final_heap_mb", final / MiB);
            context.Figure(Name, "final_bytes_per_stream_user", perUser);
            context.Figure(Name, "heap_bytes_per_user_ever_seen", perUser);
            context.Figure(Name, "state_cache_mb", stores.Cache.Bytes / MiB);
            context.Figure(Name, "state_cache_hit_rate", hitRate);
            context.Figure(Name, "store_read_mean_ms", readMeanMs);
            context.Figure(Name, "journal_users", committed);
            context.Figure(Name, "baseline_journal_bytes_per_user", journalBaseline);
            context.Figure(Name, "encoded_state_bytes", stateBytes);
            context.Line(
                Name,
                [
                    ("stream_users", streamUsers),
                    ("tx_per_s", Math.Round(streamUsers / streamed)),
                    ("peak_resident_users", peakResident),
                    ("peak_heap_mb", peakHeap / MiB),
                    .. quarters.SelectMany(q => new (string, object)[]
                    {
                        (string.Create(CultureInfo.InvariantCulture, $"heap_{q.Percent}_mb"), q.Heap / MiB),
                        (string.Create(CultureInfo.InvariantCulture, $"resident_{q.Percent}"), q.Resident),
                    }),
                    ("final_heap_mb", final / MiB),
                    ("final_bytes_per_user", Math.Round(perUser)),
                    ("heap_bytes_per_user_ever_seen", Math.Round(perUser)),
                    ("state_cache_mb", stores.Cache.Bytes / MiB),
                    ("state_cache_hit_rate", hitRate),
                    ("store_reads", stores.Reads.Count),
                    ("store_read_mean_ms", readMeanMs),
                    ("baseline_journal_bytes_per_user", Math.Round(journalBaseline)),
                    ("encoded_state_bytes", stateBytes),
                    ("journal_users", committed),
                    ("settled_s", settled - streamed),
                ]);
            if (committed != streamUsers)
            {
                context.Say($"memory: the partition journals hold {committed} users of the {streamUsers} streamed");
            }
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>The same users' encoded states in one dictionary: what a partition journal holds of a user it committed.</summary>
    private static (double Bytes, double StateBytes) BaselineEncoded(int users)
    {
        var now = DateTimeOffset.UtcNow;
        var before = LiveHeap();
        var states = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < users; i++)
        {
            var id = BenchData.UserId(i);
            states[id] = UserStateCodec.Encode(UserState.Empty(id).Apply(Apply(id, i), Settings, now).State, Settings);
        }

        var bytes = (LiveHeap() - before) / (double)users;
        return (bytes, states.Values.Average(s => s.Length));
    }

    /// <summary>One record per user, each user's on one partition by a stable hash of its id, offsets in order.</summary>
    private IEnumerable<SourceEvent> Records(string topic)
    {
        var offsets = new long[Partitions];
        for (var i = 0; i < streamUsers; i++)
        {
            var id = BenchData.UserId(i);
            var partition = (int)(UserMessageRouter.StableHash(id) % Partitions);
            var tx = new Transaction(id, 12.5m, "shop", BenchData.T0.AddMilliseconds(i));
            yield return new KafkaRecord(topic, partition, offsets[partition]++, System.Text.Encoding.UTF8.GetBytes(id), TransactionJson.Serialize(tx), DateTimeOffset.UnixEpoch);
        }
    }

    private static ApplyTransaction Apply(string id, int i) => new(i % Partitions, i, BenchData.Transaction(id, i % 3600));

    private static void Fail(PipelineRun run, Stopwatch clock)
    {
        if (run.Completion.IsFaulted)
        {
            throw new InvalidOperationException("memory bench: the stream failed", run.Completion.Exception);
        }

        if (clock.Elapsed > Timeout)
        {
            throw new TimeoutException($"memory bench: the stream did not finish within {Timeout}");
        }
    }

    /// <summary>The managed heap's live bytes after a full, compacting collection.</summary>
    private static long LiveHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The managed heap's live bytes after a full collection that does not move objects.</summary>
    private static long MarkedHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>The users resident in the region's hosts on this node, as the hosts count them.</summary>
    private static int ResidentUsers(IActorRef region) => UserHostRegistry.Users(region);

    /// <summary>The users' shard region as a node starts it (<see cref="JobShards"/>): StopUser on passivation, so users hand their state over.</summary>
    private static Task<IActorRef> StartRegionAsync(ActorSystem system, IPartitionJournals journals, bool passivate) =>
        UserRegion.StartAsync(system, passivate ? "user" : "user-resident", Settings, journals, passivate ? PassivateAfter : TimeSpan.Zero);

    /// <summary>The smallest actor: answers Identify (as every actor does) and nothing else.</summary>
    private sealed class BareActor : ReceiveActor
    {
        public BareActor() => ReceiveAny(_ => { });
    }

    /// <summary>One record per user raises no alert; none are expected.</summary>
    private sealed class NoAlerts : IOutputSink<Alert>
    {
        public Task PublishAsync(Alert alert, CancellationToken cancellationToken) => Task.CompletedTask;
    }

}
