using FraudActors.Service.Cli;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// The recovery drill on a cluster (<c>fraud drill --nodes N</c>, N ≥ 2): N services on loopback
/// form one Akka cluster and share the consumer group while the seeded stream flows; at seeded
/// moments a node is killed with SIGKILL and started again, a node leaves with SIGINT, a node
/// that left joins again, or a node is frozen with SIGSTOP until the others have downed it and
/// taken its partitions over, then thawed (it must find itself out and exit 1, and is started
/// again), by turns. Each event moves partitions, and users with them, between nodes; the drill
/// waits for the group to settle and the stream to progress before the next one. At the end
/// every node runs, catches up and stops gracefully, and the outputs are compared with the
/// references as in the one-node drill.
/// </summary>
public sealed class ClusterDrill(RecoveryDrill drill, int nodes, int events, ConsoleProgress progress)
{
    public const int MaxNodes = 5;

    /// <summary>Six partitions: each of up to five nodes has work, and every event moves some.</summary>
    public const int Partitions = 6;

    /// <summary>
    /// About how long an event takes on the 2-core machine (a restart, the group's rebalance after
    /// a session timeout, the cluster removing a killed node's old incarnation): the stream is
    /// paced to span the events, so that each lands in a busy cluster.
    /// </summary>
    private static readonly TimeSpan EventSpan = TimeSpan.FromSeconds(30);

    /// <summary>How long a thawed node has to find itself out and exit: it needs a heartbeat round or an outbox check, then a stop without a checkpoint.</summary>
    private static readonly TimeSpan ThawTimeout = TimeSpan.FromSeconds(120);

    private readonly Random _random = new(drill.Seed);
    private readonly List<string> _steps = [];
    private readonly List<string> _uncleanStops = [];
    private readonly List<string> _frozenExits = [];
    private readonly List<string> _downedRestarts = [];
    private readonly Dictionary<ClusterEvent, int> _done = ClusterEvents.Rotation.ToDictionary(k => k, _ => 0);

    public async Task<int> RunAsync(CancellationToken stop)
    {
        var count = drill.Count;
        var logs = Directory.CreateTempSubdirectory("fraud-drill-nodes.").FullName;
        await using var cluster = new NodeCluster(nodes, drill.Topics.Transactions, drill.Environment, drill.Run, logDirectory: logs);
        var moments = Enumerable.Range(0, events).Select(_ => _random.NextDouble() * 0.95).Order().ToList();
        drill.Produce(count / Math.Max(30.0, events * EventSpan.TotalSeconds), stop);
        progress.Report($"starting {nodes} nodes", 0);
        for (var node = 1; node <= nodes; node++)
        {
            await cluster.StartAsync(node, stop).ConfigureAwait(false);
        }

        progress.Say($"{nodes} nodes on ports {string.Join(", ", Enumerable.Range(1, nodes).Select(cluster.Port))}, seed nodes {cluster.SeedNodes}; {Partitions} partitions; their logs in {logs} (removed if the drill passes)");
        await SettleAsync(cluster, "start", stop).ConfigureAwait(false);

        var committedAtLastEvent = -1L;
        for (var i = 0; i < events; i++)
        {
            // The next event waits for its moment in the stream, and for the stream to have moved
            // since the last one (unless it is all committed already).
            var target = (long)(moments[i] * count);
            progress.Report($"event {i + 1}/{events}: running to {target}/{count}", (double)drill.Committed() / count);
            var last = committedAtLastEvent;
            await WaitAsync(cluster, () => drill.Committed() is var c && c >= target && (c > last || c >= count), "the stream to progress", stop).ConfigureAwait(false);
            committedAtLastEvent = drill.Committed();
            var said = await RunEventAsync(cluster, i, stop).ConfigureAwait(false);
            progress.Say($"event {i + 1}/{events}: {said}; partitions {cluster.Ownership.Describe(cluster.Running, Partitions)}");
        }

        cluster.Ownership.Step = "the end";
        foreach (var node in Enumerable.Range(1, nodes).Except(cluster.Running))
        {
            progress.Say($"the end: starting {NodeCluster.Name(node)} again, so that every node runs");
            await cluster.StartAsync(node, stop).ConfigureAwait(false);
        }

        progress.Report("the end: catching up", (double)drill.Committed() / count);
        await SettleAsync(cluster, "the end", stop).ConfigureAwait(false);
        var stream = await drill.EndStreamAsync(stop).ConfigureAwait(false);
        await WaitAsync(
            cluster,
            () =>
            {
                var committed = drill.Committed();
                progress.Report("the end: catching up", (double)committed / stream.OnTopic);
                return committed >= stream.OnTopic;
            },
            "the nodes to catch up",
            stop).ConfigureAwait(false);
        await drill.WaitForWindowResultsAsync(stream, "the end", stop).ConfigureAwait(false);

        cluster.Ownership.Step = "the final stop";
        progress.Report("the end: stopping every node with a final checkpoint", 1);
        foreach (var node in cluster.Running)
        {
            var exit = await cluster.InterruptAsync(node, RecoveryDrill.Timeout).ConfigureAwait(false);
            progress.Say($"the end: {NodeCluster.Name(node)} stopped with exit code {exit}");
            Expect(exit, "the final stop of " + NodeCluster.Name(node));
        }

        SayMoves(cluster.Ownership);
        var (failed, agreed) = await drill.CompareAsync(stream, stop).ConfigureAwait(false);
        failed |= ReportUncleanStops();
        failed |= ReportFrozenExits();
        ReportDownedRestarts();
        var moves = cluster.Ownership.Moves.Count;
        var without = cluster.Ownership.MovesWithoutUserCount;
        if (!failed)
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            Directory.Delete(logs, recursive: true);
        }

        Console.WriteLine(failed
            ? $"DRILL FAILED (the nodes' logs are in {logs})"
            : string.Create(
                CultureInfo.InvariantCulture,
                $"DRILL PASSED: {nodes} nodes, {events} events ({_done[ClusterEvent.KillHard]} kill -9, {Count(_done[ClusterEvent.Leave], "leave")}, {Count(_done[ClusterEvent.Join], "join")}, {Count(_done[ClusterEvent.Freeze], "freeze", "freezes")}), {moves} partition moves, {cluster.Ownership.UsersMoved} users moved{(without > 0 ? $" ({without} moves without a user count in the log)" : string.Empty)}; {agreed}"));
        return failed ? ExitCodes.Failure : ExitCodes.Success;
    }

    /// <summary>Runs event <paramref name="index"/>, waits for the group to settle after it, and says what happened.</summary>
    private async Task<string> RunEventAsync(NodeCluster cluster, int index, CancellationToken stop)
    {
        var kind = ClusterEvents.Choose(index, cluster.Running, nodes, cluster.Port);
        var node = Pick(ClusterEvents.Nodes(kind, cluster.Running, nodes, cluster.Port));
        var name = NodeCluster.Name(node);
        var label = $"event {index + 1} ({ClusterEvents.Describe(kind)} {name})";
        cluster.Ownership.Step = label;
        string said;
        switch (kind)
        {
            case ClusterEvent.KillHard:
                var landed = await KillMoments.AwaitAsync(cluster.Process(node), KillMoments.For(_done[kind]), stop).ConfigureAwait(false);
                cluster.KillHard(node);
                said = $"kill -9 {name} {landed}, {drill.Committed()}/{drill.Count} committed; started again";
                await cluster.StartAsync(node, stop).ConfigureAwait(false);
                break;
            case ClusterEvent.Leave:
                var exit = await cluster.InterruptAsync(node, RecoveryDrill.Timeout).ConfigureAwait(false);
                Expect(exit, label);
                said = $"{name} left (SIGINT, exit code {exit}), {drill.Committed()}/{drill.Count} committed";
                break;
            case ClusterEvent.Freeze:
                said = await FreezeAsync(cluster, node, label, stop).ConfigureAwait(false);
                break;
            default:
                await cluster.StartAsync(node, stop).ConfigureAwait(false);
                said = $"{name} joined, {drill.Committed()}/{drill.Count} committed";
                break;
        }

        _done[kind]++;
        await SettleAsync(cluster, label, stop).ConfigureAwait(false);
        return said;
    }

    /// <summary>
    /// Freezes <paramref name="node"/> (SIGSTOP) at a moment of the kind a kill would land in,
    /// keeps it frozen until a running node's log says the cluster removed it and the running
    /// nodes hold every partition, then thaws it (SIGCONT). It must learn it was downed, or find
    /// its outbox publisher fenced, and exit 1 without a final checkpoint (docs/design.md, "One
    /// cluster per job"); any other end is noted and fails the drill. It is then started again,
    /// as after a kill -9.
    /// </summary>
    private async Task<string> FreezeAsync(NodeCluster cluster, int node, string label, CancellationToken stop)
    {
        var name = NodeCluster.Name(node);
        var landed = await KillMoments.AwaitAsync(cluster.Process(node), KillMoments.For(_done[ClusterEvent.Freeze]), stop).ConfigureAwait(false);
        await cluster.FreezeAsync(node).ConfigureAwait(false);
        var frozenAt = drill.Committed();
        var frozen = DateTime.UtcNow;
        await WaitAsync(
            cluster,
            () => cluster.RemovedSinceFrozen(node) && cluster.Ownership.Settled(cluster.Running, Partitions),
            $"the others to down frozen {name} and take its partitions over",
            stop).ConfigureAwait(false);
        var downedAfter = DateTime.UtcNow - frozen;
        var exit = await cluster.ThawAsync(node, ThawTimeout).ConfigureAwait(false);
        var tail = cluster.Tail(node, 15);
        var end = cluster.Tail(node, 200);
        var why = end.Contains("fraud: fenced:", StringComparison.Ordinal) ? "fenced"
            : end.Contains("fraud: this node was removed from the cluster", StringComparison.Ordinal) ? "downed"
            : "no reason logged";
        if (exit != ExitCodes.Failure)
        {
            _frozenExits.Add($"{label}: {(exit is { } code ? $"exit code {code}" : $"still running {ThawTimeout.TotalSeconds:0} s after SIGCONT (killed)")}, expected 1; the end of its log:\n{tail}");
        }

        await cluster.StartAsync(node, stop).ConfigureAwait(false);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"freeze {name} {landed} at {frozenAt}/{drill.Count} committed; removed and its partitions taken over after {downedAfter.TotalSeconds:0} s; thawed, it exited with code {exit?.ToString(CultureInfo.InvariantCulture) ?? "none"} ({why}); started again");
    }

    private int Pick(IReadOnlyList<int> nodesToPickFrom) => nodesToPickFrom[_random.Next(nodesToPickFrom.Count)];

    /// <summary>Waits until every partition is held by exactly one running node and each running node holds one; notes who holds what.</summary>
    private async Task SettleAsync(NodeCluster cluster, string step, CancellationToken stop)
    {
        await WaitAsync(cluster, () => cluster.Ownership.Settled(cluster.Running, Partitions), $"the group to settle after {step}", stop).ConfigureAwait(false);
        _steps.Add($"{step}: {cluster.Ownership.Describe(cluster.Running, Partitions)}");
    }

    /// <summary>
    /// Polls <paramref name="condition"/>. A node the split-brain resolver downed, or that found a
    /// partition of its fenced (on a loaded machine a busy node can be found unreachable, or lose
    /// its partitions with its consumer's session), is started again and noted, as its
    /// supervisor would; a node that ends by itself otherwise, or no progress within the drill's
    /// timeout, ends the drill. The drill's counts must agree all the same.
    /// </summary>
    private async Task WaitAsync(NodeCluster cluster, Func<bool> condition, string what, CancellationToken stop)
    {
        try
        {
            var deadline = DateTime.UtcNow + RecoveryDrill.Timeout;
            while (true)
            {
                foreach (var downed in cluster.TakeDowned())
                {
                    _downedRestarts.Add($"{NodeCluster.Name(downed)} while waiting for {what}");
                    progress.Say($"{NodeCluster.Name(downed)} was downed or fenced (the end of its log says which) and exited 1; starting it again, as its supervisor would");
                    await cluster.StartAsync(downed, stop).ConfigureAwait(false);
                }

                if (cluster.Failure() is { } failure)
                {
                    throw new InvalidOperationException(failure);
                }

                if (condition())
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"drill: no progress within {RecoveryDrill.Timeout}");
                }

                await Task.Delay(100, stop).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            var tails = cluster.Running.Select(n => $"{NodeCluster.Name(n)}:\n{cluster.Tail(n, 15)}");
            throw new TimeoutException(
                $"drill: waited {RecoveryDrill.Timeout} in vain for {what}; partitions held: {cluster.Ownership.Describe(cluster.Running, Partitions)}\n{string.Join('\n', tails)}");
        }
    }

    private void Expect(int exit, string what)
    {
        if (exit != 0)
        {
            _uncleanStops.Add($"{what}: exit code {exit}");
        }
    }

    private void SayMoves(PartitionOwnership ownership)
    {
        progress.Say("who held each partition after each step:");
        foreach (var step in _steps)
        {
            progress.Say("  " + step);
        }

        var moves = ownership.Moves;
        progress.Say(string.Create(CultureInfo.InvariantCulture, $"partition moves: {moves.Count}, {ownership.UsersMoved} users' states moved with them"));
        foreach (var move in moves)
        {
            progress.Say("  " + move);
        }
    }

    /// <summary>A frozen node, thawed after its downing, must exit 1 by itself; any other end fails the drill.</summary>
    private bool ReportFrozenExits()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"frozen nodes: {_done[ClusterEvent.Freeze]} expected to exit 1 when thawed, {_frozenExits.Count} did not"));
        foreach (var line in _frozenExits)
        {
            Console.WriteLine("  " + line.Replace("\n", "\n    ", StringComparison.Ordinal));
        }

        return _frozenExits.Count > 0;
    }

    /// <summary>Nodes downed though not frozen or killed: started again, they do not fail the drill, whose counts still have to agree.</summary>
    private void ReportDownedRestarts()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nodes downed or fenced besides the frozen and killed ones, and started again: {_downedRestarts.Count}"));
        foreach (var line in _downedRestarts)
        {
            Console.WriteLine("  " + line);
        }
    }

    /// <summary>A graceful stop must end with exit code 0; any other fails the drill.</summary>
    private bool ReportUncleanStops()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"graceful stops: {_done[ClusterEvent.Leave] + nodes} expected to exit 0, {_uncleanStops.Count} did not"));
        foreach (var line in _uncleanStops)
        {
            Console.WriteLine("  " + line);
        }

        return _uncleanStops.Count > 0;
    }

    private static string Count(int count, string what, string? plural = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? what : plural ?? what + "s")}");
}
