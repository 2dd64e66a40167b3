using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Service.Hosting;
using Prometheus;

namespace FraudActors.Service.Http;

/// <summary>
/// The node's Prometheus metrics (<c>GET /metrics</c>), in a registry of its own. Totals are
/// read from the pipeline's counters at each scrape; checkpoints and journal writes are observed
/// as they happen; lag and active users are asked for at each scrape.
/// </summary>
public sealed class FraudMetrics
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();

    /// <summary>The pipeline's totals, each with the counter a scrape brings up to it.</summary>
    private readonly (Counter Counter, Func<long> Total)[] _totals;
    private readonly Counter _checkpoints;
    private readonly Counter _userRecords;
    private readonly Histogram _checkpointDuration;
    private readonly Histogram _checkpointBytes;
    private readonly Gauge _checkpointUsers;
    private readonly Histogram _journalWrite;
    private readonly Gauge _lag;
    private readonly Gauge _committed;
    private readonly Gauge _activeUsers;
    private readonly Gauge _assigned;
    private readonly Gauge _cacheBytes;
    private readonly Gauge _cacheCapacity;
    private readonly Gauge _cacheUsers;
    private readonly Counter _cacheHits;
    private readonly Counter _cacheMisses;
    private readonly Counter _storeReads;
    private readonly Counter _storeReadUsers;
    private readonly Counter _storeReadSeconds;
    private readonly Gauge _workingSet;
    private readonly Gauge _gcHeap;
    private readonly Gauge _gcHeapAfterCollection;
    private readonly Counter _gcCollections;
    private readonly Counter _gcPause;
    private readonly NodeQueries _node;

    /// <summary>
    /// Observes <paramref name="pipeline"/>'s checkpoints from now on (so it is made when the node
    /// is, not at the first scrape) and asks <paramref name="node"/> for lag and active users.
    /// </summary>
    public FraudMetrics(PipelineMetrics pipeline, NodeQueries node)
    {
        _node = node;
        var factory = Metrics.WithCustomRegistry(_registry);
        _totals =
        [
            (factory.CreateCounter("fraud_records_in_total", "Records read from the transactions topic."), () => pipeline.RecordsIn),
            (factory.CreateCounter("fraud_alerts_total", "Alerts raised."), () => pipeline.Alerts),
            (factory.CreateCounter("fraud_dlq_records_total", "Records rejected to the dead-letter topic."), () => pipeline.DeadLettered),
            (factory.CreateCounter("fraud_late_records_total", "Records behind their partition's watermark by more than the allowed lateness."), () => pipeline.Late),
            (factory.CreateCounter("fraud_window_results_total", "Window results emitted."), () => pipeline.WindowResults),
            (factory.CreateCounter("fraud_duplicate_records_total", "Records read again after a rewind that users had already applied."), () => pipeline.Duplicates),
        ];
        _userRecords = factory.CreateCounter("fraud_user_records_total", "Records this node's users applied, by where they were read: this node (local) or another (remote).", new CounterConfiguration { LabelNames = ["origin"] });
        _checkpoints = factory.CreateCounter("fraud_checkpoints_total", "Partition checkpoints ended, by status.", new CounterConfiguration { LabelNames = ["status"] });
        _checkpointDuration = factory.CreateHistogram(
            "fraud_checkpoint_duration_seconds",
            "Time from a checkpoint's barrier to its partition's commit.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        _checkpointBytes = factory.CreateHistogram(
            "fraud_checkpoint_size_bytes",
            "Bytes of user state a partition checkpoint persisted.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(256, 4, 12) });
        _checkpointUsers = factory.CreateGauge("fraud_checkpoint_users", "Users persisted by the last completed checkpoint of each partition.", new GaugeConfiguration { LabelNames = ["partition"] });
        _journalWrite = factory.CreateHistogram(
            "fraud_journal_write_seconds",
            "Time a partition journal took to make a checkpoint durable (state chunks and commit event).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) });
        _lag = factory.CreateGauge("fraud_partition_lag_records", "End offset minus the last checkpoint's offset, per assigned partition.", new GaugeConfiguration { LabelNames = ["topic", "partition"] });
        _committed = factory.CreateGauge("fraud_partition_committed_offset", "The last checkpoint's next offset, per assigned partition.", new GaugeConfiguration { LabelNames = ["topic", "partition"] });
        _activeUsers = factory.CreateGauge("fraud_active_users", "User actors alive on this node (children of its user hosts).");
        _assigned = factory.CreateGauge("fraud_assigned_partitions", "Kafka partitions assigned to this node.");

        // State beyond memory: the node's cache of committed states and the reads that missed it.
        _cacheBytes = factory.CreateGauge("fraud_state_cache_bytes", "Bytes of users' committed states in the node's cache.");
        _cacheCapacity = factory.CreateGauge("fraud_state_cache_capacity_bytes", "The cache's bound (fraud.state.cache-bytes).");
        _cacheUsers = factory.CreateGauge("fraud_state_cache_users", "Users whose committed state the node's cache holds.");
        _cacheHits = factory.CreateCounter("fraud_state_cache_hits_total", "User starts that found their state in the cache.");
        _cacheMisses = factory.CreateCounter("fraud_state_cache_misses_total", "User starts whose state was not in memory (read from the store, or new).");
        _storeReads = factory.CreateCounter("fraud_state_store_reads_total", "Batched reads of users' states from the store.");
        _storeReadUsers = factory.CreateCounter("fraud_state_store_read_users_total", "Users those reads asked for.");
        _storeReadSeconds = factory.CreateCounter("fraud_state_store_read_seconds_total", "Time spent in those reads (divide by the reads for the mean latency).");

        // The process's memory and GC, which a soak follows over time (fraud drill --soak).
        _workingSet = factory.CreateGauge("fraud_process_working_set_bytes", "Physical memory of the node's process (working set, RSS).");
        _gcHeap = factory.CreateGauge("fraud_gc_heap_bytes", "Bytes allocated on the managed heap now: a sawtooth between collections.");
        _gcHeapAfterCollection = factory.CreateGauge("fraud_gc_heap_after_collection_bytes", "Size of the managed heap as the last garbage collection left it.");
        _gcCollections = factory.CreateCounter("fraud_gc_collections_total", "Garbage collections, by generation.", new CounterConfiguration { LabelNames = ["generation"] });
        _gcPause = factory.CreateCounter("fraud_gc_pause_seconds_total", "Time the process was paused by garbage collections.");
        pipeline.JournalWritten = took => _journalWrite.Observe(took.TotalSeconds);
        pipeline.CheckpointEnded = Observe;
        _registry.AddBeforeCollectCallback(CollectAsync);
    }

    public Task ExportAsync(Stream destination, CancellationToken cancellationToken) =>
        _registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    private void Observe(CheckpointRecord record)
    {
        var completed = record.Status == CheckpointStatus.Completed;
        _checkpoints.WithLabels(completed ? "completed" : "failed").Inc();
        _checkpointDuration.Observe(record.Duration.TotalSeconds);
        if (completed)
        {
            _checkpointBytes.Observe(record.Bytes);
            _checkpointUsers.WithLabels(record.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(record.UsersPersisted);
        }
    }

    private async Task CollectAsync(CancellationToken cancellationToken)
    {
        foreach (var (counter, total) in _totals)
        {
            counter.IncTo(total());
        }

        _userRecords.WithLabels("local").IncTo(Engine.Users.UserTraffic.Local);
        _userRecords.WithLabels("remote").IncTo(Engine.Users.UserTraffic.Remote);
        _workingSet.Set(Environment.WorkingSet);
        _gcHeap.Set(GC.GetTotalMemory(forceFullCollection: false));
        _gcHeapAfterCollection.Set(GC.GetGCMemoryInfo().HeapSizeBytes);
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            _gcCollections.WithLabels(generation.ToString(System.Globalization.CultureInfo.InvariantCulture)).IncTo(GC.CollectionCount(generation));
        }

        _gcPause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        var current = await _node.PartitionsAsync(cancellationToken).ConfigureAwait(false);
        _assigned.Set(current.Count);
        foreach (var series in _lag.GetAllLabelValues().ToList())
        {
            if (!current.Any(p => p.Topic == series[0] && p.PartitionLabel == series[1]))
            {
                _lag.RemoveLabelled(series);
                _committed.RemoveLabelled(series);
            }
        }

        foreach (var p in current)
        {
            if (p.Lag is { } lag)
            {
                _lag.WithLabels(p.Topic, p.PartitionLabel).Set(lag);
            }

            if (p.CommittedOffset is { } committed)
            {
                _committed.WithLabels(p.Topic, p.PartitionLabel).Set(committed);
            }
        }

        if (_node.StateStores is { } state)
        {
            _cacheBytes.Set(state.Cache.Bytes);
            _cacheCapacity.Set(state.Cache.CapacityBytes);
            _cacheUsers.Set(state.Cache.Count);
            _cacheHits.IncTo(state.Cache.Reads.Hits);
            _cacheMisses.IncTo(state.Cache.Reads.Misses);
            _storeReads.IncTo(state.Reads.Count);
            _storeReadUsers.IncTo(state.Reads.Users);
            _storeReadSeconds.IncTo(state.Reads.Time.TotalSeconds);
        }

        if (await _node.ActiveUsersAsync().ConfigureAwait(false) is { } count)
        {
            _activeUsers.Set(count);
        }
    }
}
