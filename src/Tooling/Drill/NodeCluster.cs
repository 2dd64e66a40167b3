using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FraudActors.Service.Cli;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// <c>fraud run</c> child processes on loopback forming one Akka cluster, numbered from 1. Each
/// node keeps the port chosen for it up front across restarts, and all list the first two as
/// their seed nodes, so a node started again rejoins as the same address (Akka removes its
/// previous incarnation first). Nodes are started, killed with SIGKILL, stopped with SIGINT,
/// frozen with SIGSTOP and thawed with SIGCONT by number; their logs feed one
/// <see cref="PartitionOwnership"/> and say when the cluster removed a node, and each
/// incarnation's log can be kept in a file of its own.
/// </summary>
public sealed partial class NodeCluster : IAsyncDisposable
{
    private const string Listening = "Started up successfully";
    private const string DownedLine = "fraud: this node was removed from the cluster";
    private const string FencedLine = "fraud: fenced:";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private readonly string? _assembly;
    private readonly string? _logDirectory;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly IReadOnlyList<string> _run;
    private readonly int[] _ports;
    private readonly ServiceProcess?[] _running;
    private readonly ServiceProcess?[] _latest;
    private readonly ServiceProcess?[] _frozen;
    private readonly int[] _removalsAtFreeze;

    /// <summary>By port: how many times a running node's log said the cluster's leader removed that address.</summary>
    private readonly ConcurrentDictionary<int, int> _removals = new();
    private readonly int[] _incarnations;
    private readonly int[] _starts;
    private readonly List<ServiceProcess> _started = [];
    private readonly List<StreamWriter> _logs = [];

    /// <param name="size">How many nodes the cluster has room for.</param>
    /// <param name="topic">The transactions topic, whose partitions <see cref="Ownership"/> follows.</param>
    /// <param name="environment">Every node's environment.</param>
    /// <param name="run">Every node's command line (<c>run</c> and its options); the node port and seed nodes are added.</param>
    /// <param name="assembly">The <c>fraud.dll</c> to run, or null for this very executable (see <see cref="ServiceProcess.Start(string?, IReadOnlyDictionary{string, string}, Action{string}?, string[])"/>).</param>
    /// <param name="logDirectory">Where each incarnation's standard error is written (<c>node2.3.log</c>: node 2's third start), or null.</param>
    public NodeCluster(int size, string topic, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> run, string? assembly = null, string? logDirectory = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _assembly = assembly;
        _logDirectory = logDirectory;
        _environment = environment;
        _run = run;
        _ports = FreePorts(size);
        _running = new ServiceProcess?[size];
        _latest = new ServiceProcess?[size];
        _frozen = new ServiceProcess?[size];
        _removalsAtFreeze = new int[size];
        _incarnations = new int[size];
        _starts = new int[size];
        SeedNodes = string.Join(',', _ports.Take(2).Select(p => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{p}")));
        Ownership = new PartitionOwnership(topic);
    }

    public int Size => _ports.Length;

    /// <summary>Every node's <c>--seed-nodes</c>: the first two nodes.</summary>
    public string SeedNodes { get; }

    public PartitionOwnership Ownership { get; }

    /// <summary>The nodes running now, by number; a frozen node is not one of them.</summary>
    public IReadOnlyList<int> Running => [.. Enumerable.Range(1, Size).Where(n => _running[n - 1] is not null)];

    public static string Name(int node) => string.Create(CultureInfo.InvariantCulture, $"node{node}");

    public int Port(int node) => _ports[node - 1];

    /// <summary>The running process of <paramref name="node"/>.</summary>
    public ServiceProcess Process(int node) => _running[node - 1] ?? throw new InvalidOperationException($"{Name(node)} is not running");

    /// <summary>
    /// Starts <paramref name="node"/> and returns once its actor system listens on its port (it
    /// then joins the cluster on its own). The port of a node killed a moment ago may still be
    /// held: a start that fails naming <c>--node-port</c> is tried again for a while.
    /// </summary>
    public async Task StartAsync(int node, CancellationToken cancellationToken)
    {
        if (_running[node - 1] is not null)
        {
            throw new InvalidOperationException($"{Name(node)} is running already");
        }

        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            var process = Launch(node);
            while (!process.HasExited && !process.StandardError.Any(l => l.Contains(Listening, StringComparison.Ordinal)))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{Name(node)} did not start listening on port {Port(node)} within {StartTimeout}:\n{Tail(process)}");
                }

                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }

            if (!process.HasExited)
            {
                _running[node - 1] = process;
                return;
            }

            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var portHeld = process.ExitCode == 2 && process.StandardError.Any(l => l.Contains("--node-port: cannot listen", StringComparison.Ordinal));
            if (!portHeld || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{Name(node)} exited with code {process.ExitCode} while starting:\n{Tail(process)}");
            }
        }
    }

    /// <summary>SIGKILL: the node ends at once, its partitions and cluster membership left behind for the others to notice.</summary>
    public void KillHard(int node)
    {
        Process(node).KillHard();
        Ended(node);
    }

    /// <summary>SIGINT, as an operator stops a node: it leaves the cluster and the group. Returns its exit code.</summary>
    public async Task<int> InterruptAsync(int node, TimeSpan timeout)
    {
        var process = Process(node);
        try
        {
            return await process.InterruptAsync(timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name(node)} did not stop within {timeout} of SIGINT:\n{Tail(process)}");
        }
        finally
        {
            Ended(node);
        }
    }

    /// <summary>
    /// SIGSTOP: the node stops where it is, its sockets open, and answers nothing. It no longer
    /// counts as running: its partitions are the others' to take over, and what it says once
    /// thawed no longer moves them.
    /// </summary>
    public async Task FreezeAsync(int node)
    {
        var process = Process(node);
        _removalsAtFreeze[node - 1] = _removals.GetValueOrDefault(Port(node));
        await process.FreezeAsync().ConfigureAwait(false);
        _frozen[node - 1] = process;
        Ended(node);
    }

    /// <summary>Whether a running node's log said the cluster removed frozen <paramref name="node"/> (downed and gone) since it was frozen.</summary>
    public bool RemovedSinceFrozen(int node) =>
        _frozen[node - 1] is not null && _removals.GetValueOrDefault(Port(node)) > _removalsAtFreeze[node - 1];

    /// <summary>
    /// SIGCONT to frozen <paramref name="node"/>, then waits for it to exit by itself; returns
    /// its exit code, or null when it still ran after <paramref name="timeout"/> (it is then
    /// killed with SIGKILL, so that it can be started again).
    /// </summary>
    public async Task<int?> ThawAsync(int node, TimeSpan timeout)
    {
        var process = _frozen[node - 1] ?? throw new InvalidOperationException($"{Name(node)} is not frozen");
        try
        {
            await process.ThawAsync().ConfigureAwait(false);
            using var deadline = new CancellationTokenSource(timeout);
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            process.KillHard();
            return null;
        }
        finally
        {
            _frozen[node - 1] = null;
        }
    }

    /// <summary>
    /// The running nodes that ended because the split-brain resolver downed them, or because they
    /// found a partition of theirs fenced (their consumer, stalled on a loaded machine, lost it to
    /// another node): exit code 1 and the service's line saying so. Each is no longer running
    /// once returned, for the caller to start again, as a supervisor (compose's
    /// <c>restart: unless-stopped</c>) would.
    /// </summary>
    public IReadOnlyList<int> TakeDowned()
    {
        var downed = Running
            .Where(n => _running[n - 1]!.HasExited && _running[n - 1]!.ExitCode == ExitCodes.Failure
                && _running[n - 1]!.StandardError.Any(l => l.StartsWith(DownedLine, StringComparison.Ordinal) || l.StartsWith(FencedLine, StringComparison.Ordinal)))
            .ToList();
        downed.ForEach(Ended);
        return downed;
    }

    /// <summary>A node that ended without being told to, with the end of its log; null while none did.</summary>
    public string? Failure() => Running
        .Where(n => _running[n - 1]!.HasExited)
        .Select(n => $"{Name(n)} exited by itself with code {_running[n - 1]!.ExitCode}:\n{Tail(_running[n - 1]!)}")
        .FirstOrDefault();

    /// <summary>The last lines of the standard error of <paramref name="node"/>'s latest start, running or not.</summary>
    public string Tail(int node, int lines = 30) =>
        _latest[node - 1] is { } process ? Tail(process, lines) : throw new InvalidOperationException($"{Name(node)} was never started");

    /// <summary>Kills what still runs and waits until every node's output is read, then closes the log files; once.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.KillHard();
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            process.Dispose();
        }

        foreach (var log in _logs)
        {
            await log.DisposeAsync().ConfigureAwait(false);
        }

        _started.Clear();
        _logs.Clear();
    }

    private ServiceProcess Launch(int node)
    {
        // Lines of an earlier incarnation still on their way no longer count.
        var incarnation = Interlocked.Increment(ref _incarnations[node - 1]);
        Ownership.Reset(node);
        var log = _logDirectory is null
            ? null
            : new StreamWriter(Path.Combine(_logDirectory, string.Create(CultureInfo.InvariantCulture, $"{Name(node)}.{++_starts[node - 1]}.log"))) { AutoFlush = true };
        if (log is not null)
        {
            _logs.Add(log);
        }

        var process = ServiceProcess.Start(
            _assembly,
            _environment,
            line =>
            {
                log?.WriteLine(line);
                if (Volatile.Read(ref _incarnations[node - 1]) == incarnation)
                {
                    Ownership.Observe(node, line);
                    if (Removing().Match(line) is { Success: true } removing)
                    {
                        _removals.AddOrUpdate(int.Parse(removing.Groups["port"].Value, CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                    }
                }
            },
            [.. _run, "--node-port", Port(node).ToString(CultureInfo.InvariantCulture), "--seed-nodes", SeedNodes]);
        _started.Add(process);
        _latest[node - 1] = process;
        return process;
    }

    private void Ended(int node)
    {
        _running[node - 1] = null;
        Interlocked.Increment(ref _incarnations[node - 1]);
        Ownership.Reset(node);
    }

    private static string Tail(ServiceProcess process, int lines = 30) => string.Join('\n', process.StandardError.TakeLast(lines));

    /// <summary>Akka's leader removing a downed (or exited) member: <c>Leader is removing unreachable node [akka.tcp://fraud@127.0.0.1:PORT]</c>.</summary>
    [GeneratedRegex(@"Leader is removing \w+ node \[[^\]]*?:(?<port>\d+)[,\]]")]
    private static partial Regex Removing();

    /// <summary>Distinct free loopback ports: all held open together while they are chosen.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }
}
