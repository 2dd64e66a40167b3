using System.Text.Json;
using Confluent.Kafka;
using FraudActors.Engine.Configuration;
using FraudActors.Service.Cli;
using FraudActors.Service.Producing;

namespace FraudActors.Tooling.Drill;

/// <param name="Duration">How long the paced load runs.</param>
/// <param name="Rate">Records a second; null for <paramref name="RateShare"/> of the maximum measured at the start.</param>
/// <param name="RateShare">The share of the measured maximum to run at, when no rate is given.</param>
/// <param name="SampleEvery">Time between samples.</param>
/// <param name="JsonFile">Where the series is written as JSON, or null.</param>
/// <summary>
/// The drill's soak mode (<c>fraud drill --soak 10m</c>): the dev broker, the store and
/// <c>fraud run</c> nodes as the recovery drill has them, nothing killed. The nodes' maximum
/// rate is measured first (they drain <see cref="MaxRateRecords"/> records produced before they
/// start) unless a rate is given; then the synthetic stream is produced at a share of it for
/// the duration while every <c>--sample-every</c> the group's lag and each node's memory, GC and
/// checkpoints (its HTTP API) are sampled, a table line each. At the end <see cref="Growth"/>
/// judges memory, lag and checkpoint duration: the soak passes when none keeps growing, the
/// broker dropped no unread record and every node stops cleanly.
/// </summary>
public sealed class SoakDrill(RecoveryDrill drill, int nodes, SoakOptions options, ConsoleProgress progress)
{
    /// <summary>Records drained to measure the maximum rate: within what the dev broker keeps of 3 partitions (~5 MiB each).</summary>
    public const int MaxRateRecords = 60_000;

    /// <summary>Transactions per second of event time: windows close and users reappear as in production, whatever the wall-clock rate.</summary>
    private const double EventRate = 1000;
    private const double Mib = 1024 * 1024;
    private const string Bound = "HTTP API and dashboard on ";
    private static readonly TimeSpan KafkaTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    private readonly List<SoakSample> _samples = [];
    private readonly TextWriter _out = progress.Writer;

    public async Task<int> RunAsync(CancellationToken stop)
    {
        var started = DateTimeOffset.UtcNow;
        var users = (int)TransactionGenerator.MinimumUsers(EventRate);
        using var stream = new TransactionGenerator(new GeneratorOptions(drill.Seed, users, EventRate, ProduceCommand.SeededStart, Count: null)).Generate().GetEnumerator();
        using var kafka = new GroupOffsets(drill.Bootstrap, RecoveryDrill.Group, drill.Topics.Transactions, drill.Partitions);
        var logs = Directory.CreateTempSubdirectory("fraud-soak-nodes.").FullName;
        await using var cluster = new NodeCluster(nodes, drill.Topics.Transactions, drill.Environment, drill.Run, logDirectory: logs);
        using var http = new HttpClient { Timeout = HttpTimeout };

        if (options.Rate is null)
        {
            progress.Report($"maximum rate: producing {MaxRateRecords} records before the nodes start", 0);
            await TransactionProducer.RunAsync(drill.Bootstrap, drill.Topics.Transactions, Next(stream, MaxRateRecords), 1, maxSpeed: true, progress: null, stop).ConfigureAwait(false);
            kafka.ThrowIfDropped("the records produced to measure the maximum rate");
        }

        progress.Report($"starting {nodes} node{(nodes == 1 ? string.Empty : "s")}", 0);
        for (var node = 1; node <= nodes; node++)
        {
            await cluster.StartAsync(node, stop).ConfigureAwait(false);
        }

        await WaitAsync(cluster, () => cluster.Ownership.Settled(cluster.Running, drill.Partitions), "the group to settle", stop).ConfigureAwait(false);
        await WaitAsync(cluster, () => cluster.Running.All(n => Address(cluster.Process(n)) is not null), "every node's HTTP address in its log", stop).ConfigureAwait(false);
        var addresses = cluster.Running.ToDictionary(n => n, n => Address(cluster.Process(n))!);
        progress.Say($"{nodes} node{(nodes == 1 ? string.Empty : "s")} ({string.Join(", ", addresses.Select(a => $"{NodeCluster.Name(a.Key)} at {a.Value}"))}); {drill.Partitions} partitions; logs in {logs} (removed if the soak passes)");

        var maxRate = options.Rate is null ? await MeasureMaxRateAsync(cluster, kafka, stop).ConfigureAwait(false) : (double?)null;
        var target = options.Rate ?? (maxRate!.Value * options.RateShare);
        progress.Say(string.Create(
            CultureInfo.InvariantCulture,
            $"soak: {Durations.Format(options.Duration)} at {target:0} records/s{(maxRate is { } max ? $" ({options.RateShare:P0} of the maximum {max:0}/s)" : string.Empty)}, a sample every {Durations.Format(options.SampleEvery)}; {users} users, {EventRate:0} transactions per second of event time"));

        // The paced load, and a sample at each multiple of the interval from the moment every
        // node has taken it up. The producer runs until the last sample is taken, so every sample
        // sees the full rate.
        using var paced = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var producing = TransactionProducer.RunAsync(drill.Bootstrap, drill.Topics.Transactions, Next(stream, null), target, maxSpeed: false, progress: null, paced.Token);
        await WaitForCheckpointsAsync(cluster, addresses, http, producing, stop).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var previous = await ReadAsync(addresses, kafka, http, clock, DateTimeOffset.UtcNow, stop).ConfigureAwait(false);
        _out.WriteLine(Header(nodes));
        for (var k = 1; options.SampleEvery * k <= options.Duration; k++)
        {
            var due = (options.SampleEvery * k) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, stop).ConfigureAwait(false);
            }

            if (cluster.Failure() is { } failure)
            {
                throw new InvalidOperationException($"soak: {failure}");
            }

            if (producing.IsFaulted)
            {
                await producing.ConfigureAwait(false);
            }

            var reading = await ReadAsync(addresses, kafka, http, clock, previous.At, stop).ConfigureAwait(false);
            var sample = Sample(k, previous, reading);
            _samples.Add(sample);
            _out.WriteLine(Row(sample));
            previous = reading;
        }

        await paced.CancelAsync().ConfigureAwait(false);
        var produced = await producing.ConfigureAwait(false);
        var unclean = new List<string>();
        progress.Report("stopping every node with a final checkpoint", 1);
        foreach (var node in cluster.Running)
        {
            var exit = await cluster.InterruptAsync(node, RecoveryDrill.Timeout).ConfigureAwait(false);
            if (exit != 0)
            {
                unclean.Add(string.Create(CultureInfo.InvariantCulture, $"{NodeCluster.Name(node)} exited with code {exit} on SIGINT"));
            }
        }

        var verdicts = Verdicts(target);
        var failures = verdicts.Where(v => !v.Passed).Select(v => v.Judged ? $"{v.Figure} keeps growing" : $"{v.Figure} was not judged").ToList();
        var dropped = _samples.Count > 0 ? _samples[^1].DroppedByBroker : 0;
        if (dropped > 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"the dev broker dropped {dropped} records before the nodes read them (lag beyond its ~5 MiB per partition)"));
        }

        failures.AddRange(unclean);
        Summarize(target, maxRate, produced, verdicts, unclean);
        if (options.JsonFile is { } file)
        {
            await WriteJsonAsync(file, started, target, maxRate, produced, verdicts, failures, stop).ConfigureAwait(false);
            progress.Say($"the series is in {file}");
        }

        if (failures.Count == 0)
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            Directory.Delete(logs, recursive: true);
        }

        _out.WriteLine(failures.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"SOAK PASSED: {Durations.Format(options.Duration)} at {target:0} records/s, {_samples.Count} samples; no figure keeps growing")
            : $"SOAK FAILED: {string.Join("; ", failures)} (the nodes' logs are in {logs})");
        return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// The nodes drain the records produced before they started: the rate between the first
    /// commit the group shows and the commit of the last record, both seen the same way.
    /// </summary>
    private async Task<double> MeasureMaxRateAsync(NodeCluster cluster, GroupOffsets kafka, CancellationToken stop)
    {
        progress.Report($"maximum rate: the nodes drain {MaxRateRecords} records", 0);
        var clock = Stopwatch.StartNew();
        (TimeSpan At, long Committed) first = default, last = default;
        await WaitAsync(
            cluster,
            () =>
            {
                var committed = kafka.Read().Committed;
                if (first == default && committed > 0)
                {
                    first = (clock.Elapsed, committed);
                }

                last = (clock.Elapsed, committed);
                progress.Report($"maximum rate: the nodes drain {MaxRateRecords} records", (double)committed / MaxRateRecords);
                return committed >= MaxRateRecords;
            },
            "the nodes to drain the records of the maximum rate",
            stop).ConfigureAwait(false);
        var rate = last.At > first.At ? (last.Committed - first.Committed) / (last.At - first.At).TotalSeconds : MaxRateRecords / last.At.TotalSeconds;
        progress.Say(string.Create(CultureInfo.InvariantCulture, $"maximum rate: {rate:0} records/s (the nodes drained {MaxRateRecords} records produced before they started, timed between commits)"));
        return rate;
    }

    /// <summary>
    /// Waits until every node has ended a checkpoint (its API's checkpoint duration count is above
    /// 0): a node checkpoints only partitions whose records it processed, so it has taken its
    /// partitions up and the load flows through it. The group settles on the consumer's
    /// assignment, while the node may still be recovering the partitions' journals (seconds on
    /// a busy machine); sampled from there, the first samples would show a node that processes
    /// nothing and ends no checkpoint, and with too few checkpoint durations after the warm-up
    /// that figure could not be judged. Where the maximum rate was measured first, every node
    /// has checkpointed already.
    /// </summary>
    private async Task WaitForCheckpointsAsync(NodeCluster cluster, Dictionary<int, Uri> addresses, HttpClient http, Task producing, CancellationToken stop)
    {
        progress.Report("waiting for every node to checkpoint the load", 0);
        var waiting = new HashSet<int>(addresses.Keys);
        var deadline = DateTime.UtcNow + RecoveryDrill.Timeout;
        var last = new Dictionary<int, string>();
        while (true)
        {
            if (cluster.Failure() is { } failure)
            {
                throw new InvalidOperationException($"soak: {failure}");
            }

            if (producing.IsFaulted)
            {
                await producing.ConfigureAwait(false);
            }

            foreach (var node in waiting.ToList())
            {
                try
                {
                    var metrics = NodeReading.Parse(await http.GetStringAsync(new Uri(addresses[node], "metrics"), stop).ConfigureAwait(false));
                    if (metrics.GetValueOrDefault(NodeReading.CheckpointCount) > 0)
                    {
                        waiting.Remove(node);
                    }
                    else
                    {
                        last[node] = "no checkpoint ended yet";
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
                {
                    last[node] = $"{addresses[node]}: {e.Message}";
                }
            }

            if (waiting.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"soak: waited {RecoveryDrill.Timeout} in vain for every node to end a checkpoint of the load\n{string.Join('\n', waiting.Select(n => $"{NodeCluster.Name(n)} ({last.GetValueOrDefault(n)}):\n{cluster.Tail(n, 15)}"))}");
            }

            await Task.Delay(100, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Kafka offsets and every node's API, read now; a node that does not answer is noted, not fatal.</summary>
    private static async Task<Reading> ReadAsync(Dictionary<int, Uri> addresses, GroupOffsets kafka, HttpClient http, Stopwatch clock, DateTimeOffset since, CancellationToken stop)
    {
        var at = DateTimeOffset.UtcNow;
        var elapsed = clock.Elapsed;
        var offsets = kafka.Read();
        var readings = new Dictionary<int, (NodeReading? Reading, string? Error)>();
        foreach (var (node, address) in addresses)
        {
            try
            {
                readings[node] = (await NodeReading.ReadAsync(http, address, since, stop).ConfigureAwait(false), null);
            }
            catch (Exception e) when (e is HttpRequestException or FormatException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException && !stop.IsCancellationRequested)
            {
                readings[node] = (null, $"{address}: {e.Message}");
            }
        }

        return new Reading(elapsed, at, offsets, readings);
    }

    private static SoakSample Sample(int index, Reading before, Reading now)
    {
        var seconds = (now.Elapsed - before.Elapsed).TotalSeconds;
        var nodes = new List<SoakNodeSample>();
        double checkpointSeconds = 0, checkpoints = 0, failed = 0;
        double? longest = null;
        foreach (var (node, (reading, error)) in now.Nodes)
        {
            var name = NodeCluster.Name(node);
            if (reading is null || before.Nodes.GetValueOrDefault(node).Reading is not { } earlier)
            {
                nodes.Add(new SoakNodeSample(name, InMib(reading?.WorkingSetBytes), InMib(reading?.GcHeapBytes), InMib(reading?.GcHeapAfterCollectionBytes), null, null, error ?? "no earlier reading"));
                continue;
            }

            nodes.Add(new SoakNodeSample(
                name,
                InMib(reading.WorkingSetBytes),
                InMib(reading.GcHeapBytes),
                InMib(reading.GcHeapAfterCollectionBytes),
                [.. reading.Collections.Zip(earlier.Collections, (a, b) => (long)(a - b))],
                Math.Round((reading.GcPauseSeconds - earlier.GcPauseSeconds) * 1000, 1),
                null));
            checkpointSeconds += reading.CheckpointSeconds - earlier.CheckpointSeconds;
            checkpoints += reading.Checkpoints - earlier.Checkpoints;
            failed += reading.FailedCheckpoints - earlier.FailedCheckpoints;
            longest = reading.LongestCheckpointMs is { } l ? Math.Max(l, longest ?? 0) : longest;
        }

        return new SoakSample(
            index,
            Math.Round(now.Elapsed.TotalSeconds, 1),
            now.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Math.Round((now.Offsets.End - before.Offsets.End) / seconds, 1),
            Math.Round((now.Offsets.Committed - before.Offsets.Committed) / seconds, 1),
            now.Offsets.Lag,
            now.Offsets.Dropped,
            (long)checkpoints,
            (long)failed,
            checkpoints > 0 ? Math.Round(checkpointSeconds / checkpoints * 1000, 1) : null,
            longest,
            nodes);
    }

    /// <summary>Memory of each node, the group's lag and the checkpoints' mean duration, each judged by <see cref="Growth"/>.</summary>
    private List<GrowthVerdict> Verdicts(double target)
    {
        var verdicts = new List<GrowthVerdict>();
        foreach (var node in Enumerable.Range(1, nodes).Select(NodeCluster.Name))
        {
            List<SoakPoint> Of(Func<SoakNodeSample, double?> figure) =>
                [.. _samples.Select(s => new SoakPoint(s.ElapsedS, s.Nodes.FirstOrDefault(n => n.Node == node) is { } n && figure(n) is { } v ? v : double.NaN))];
            verdicts.Add(Growth.Judge($"working set of {node}", "MiB", Of(n => n.WorkingSetMib), floor: 16));
            verdicts.Add(Growth.Judge($"GC heap after collection of {node}", "MiB", Of(n => n.GcHeapAfterCollectionMib), floor: 16));
        }

        verdicts.Add(Growth.Judge("lag", "records", [.. _samples.Select(s => new SoakPoint(s.ElapsedS, s.Lag))], floor: Math.Max(100, target)));
        verdicts.Add(Growth.Judge("checkpoint duration", "ms", [.. _samples.Select(s => new SoakPoint(s.ElapsedS, s.CheckpointMeanMs ?? double.NaN))], floor: 20));
        return verdicts;
    }

    private void Summarize(double target, double? maxRate, ProduceSummary produced, List<GrowthVerdict> verdicts, List<string> unclean)
    {
        var seconds = _samples.Count > 0 ? _samples[^1].ElapsedS : 0;
        double Mean(Func<SoakSample, double> f) => _samples.Count > 0 ? _samples.Average(f) : 0;
        var nodeSamples = _samples.SelectMany(s => s.Nodes).ToList();
        var collections = Enumerable.Range(0, 3).Select(g => nodeSamples.Sum(n => n.GcCollections is { } c ? c[g] : 0)).ToList();
        var pause = nodeSamples.Sum(n => n.GcPauseMs ?? 0);
        var checkpoints = _samples.Sum(s => s.Checkpoints);
        var checkpointMean = checkpoints > 0 ? _samples.Sum(s => (s.CheckpointMeanMs ?? 0) * s.Checkpoints) / checkpoints : 0;
        _out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"soak summary: {seconds:0} s at a target of {target:0} records/s{(maxRate is { } max ? $" (maximum measured {max:0}/s)" : string.Empty)}; produced {Mean(s => s.ProducedPerS):0}/s, processed {Mean(s => s.ProcessedPerS):0}/s on average ({produced})"));
        _out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"soak summary: lag max {(_samples.Count > 0 ? _samples.Max(s => s.Lag) : 0)}, last {(_samples.Count > 0 ? _samples[^1].Lag : 0)} records; checkpoints {checkpoints} ({_samples.Sum(s => s.FailedCheckpoints)} failed), mean {checkpointMean:0.0} ms, longest {(_samples.Count > 0 ? _samples.Max(s => s.CheckpointMaxMs ?? 0) : 0):0} ms"));
        _out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"soak summary: GC collections gen0 {collections[0]}, gen1 {collections[1]}, gen2 {collections[2]}; paused {pause:0} ms in all ({(seconds > 0 ? pause / 1000 / seconds / nodes : 0):P2} of each node's time); working set peak {(nodeSamples.Count > 0 ? nodeSamples.Max(n => n.WorkingSetMib ?? 0) : 0):0} MiB"));
        var unanswered = nodeSamples.Count(n => n.Error is not null);
        if (unanswered > 0)
        {
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"soak summary: {unanswered} node readings failed (left out): {nodeSamples.First(n => n.Error is not null).Error}"));
        }

        foreach (var verdict in verdicts)
        {
            _out.WriteLine("growth: " + verdict);
        }

        foreach (var line in unclean)
        {
            _out.WriteLine("stop: " + line);
        }
    }

    private async Task WriteJsonAsync(string file, DateTimeOffset started, double target, double? maxRate, ProduceSummary produced, List<GrowthVerdict> verdicts, List<string> failures, CancellationToken stop)
    {
        double? Finite(double v) => double.IsFinite(v) ? Math.Round(v, 2) : null;
        var document = new
        {
            Started = started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            DurationS = options.Duration.TotalSeconds,
            SampleEveryS = options.SampleEvery.TotalSeconds,
            Nodes = nodes,
            drill.Partitions,
            drill.Store,
            MaxRatePerS = maxRate is { } m ? Math.Round(m, 1) : (double?)null,
            RateShare = options.Rate is null ? options.RateShare : (double?)null,
            TargetRatePerS = Math.Round(target, 1),
            Produced = produced.Sent,
            Samples = _samples,
            Verdicts = verdicts.Select(v => new { v.Figure, v.Unit, v.Judged, v.Grows, v.Samples, First = Finite(v.First), Middle = Finite(v.Middle), Last = Finite(v.Last), Threshold = Finite(v.Threshold) }),
            Passed = failures.Count == 0,
            Failures = failures,
        };
        try
        {
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(document, Json), stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--json {file}: cannot write the series: {e.Message}", e);
        }
    }

    private static string Header(int nodes) =>
        $"{"t_s",6} {"produced/s",10} {"processed/s",11} {"lag",8} {"rss_mib",8} {"heap_mib",8} {"after_gc_mib",12} {"gc0",5} {"gc1",4} {"gc2",4} {"pause_ms",8} {"ckpts",6} {"ckpt_mean_ms",12} {"ckpt_max_ms",11}"
        + (nodes > 1 ? string.Create(CultureInfo.InvariantCulture, $"  (memory and GC summed over {nodes} nodes)") : string.Empty);

    private static string Row(SoakSample s)
    {
        double? Sum(Func<SoakNodeSample, double?> f) => s.Nodes.All(n => f(n) is not null) ? s.Nodes.Sum(n => f(n)!.Value) : null;
        string Number(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "-";
        long? Gc(int g) => s.Nodes.All(n => n.GcCollections is not null) ? s.Nodes.Sum(n => n.GcCollections![g]) : null;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{s.ElapsedS,6:0} {s.ProducedPerS,10:0} {s.ProcessedPerS,11:0} {s.Lag,8} {Number(Sum(n => n.WorkingSetMib), "0.0"),8} {Number(Sum(n => n.GcHeapMib), "0.0"),8} {Number(Sum(n => n.GcHeapAfterCollectionMib), "0.0"),12} {Number(Gc(0), "0"),5} {Number(Gc(1), "0"),4} {Number(Gc(2), "0"),4} {Number(Sum(n => n.GcPauseMs), "0"),8} {s.Checkpoints,6} {Number(s.CheckpointMeanMs, "0.0"),12} {Number(s.CheckpointMaxMs, "0"),11}");
    }

    private static double? InMib(double? bytes) => bytes is { } b ? Math.Round(b / Mib, 1) : null;

    private static Uri? Address(ServiceProcess process) =>
        process.StandardError.FirstOrDefault(l => l.Contains(Bound, StringComparison.Ordinal)) is { } line
            ? new Uri(line[(line.IndexOf(Bound, StringComparison.Ordinal) + Bound.Length)..].Trim())
            : null;

    /// <summary>The next <paramref name="count"/> records of the stream (all the rest when null), as the producer sends them.</summary>
    private static IEnumerable<(string? Key, byte[] Value)> Next(IEnumerator<Transaction> stream, long? count)
    {
        for (var i = 0L; (count is null || i < count) && stream.MoveNext(); i++)
        {
            yield return TransactionGenerator.ToRecord(stream.Current);
        }
    }

    /// <summary>Polls <paramref name="condition"/>; a node that ends by itself, or no progress within the drill's timeout, ends the soak.</summary>
    private static async Task WaitAsync(NodeCluster cluster, Func<bool> condition, string what, CancellationToken stop)
    {
        try
        {
            await RecoveryDrill.WaitAsync(() => cluster.Failure() is { } failure ? throw new InvalidOperationException("soak: " + failure) : condition(), stop).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"soak: waited {RecoveryDrill.Timeout} in vain for {what}\n{string.Join('\n', cluster.Running.Select(n => $"{NodeCluster.Name(n)}:\n{cluster.Tail(n, 15)}"))}");
        }
    }

    private sealed record Reading(TimeSpan Elapsed, DateTimeOffset At, Offsets Offsets, Dictionary<int, (NodeReading? Reading, string? Error)> Nodes);
}
