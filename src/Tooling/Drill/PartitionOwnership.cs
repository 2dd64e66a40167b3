using System.Text.RegularExpressions;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// A partition that changed node: from where to where, during which step of a drill or test, and
/// where its new node resumed it (its journal's next offset and, where the log says, how many
/// users' checkpointed states came with it).
/// </summary>
public sealed record PartitionMove(int Partition, int From, int To, string Step, string? ResumedAt, long? Users)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"partition {Partition}: node{From} -> node{To} at {Step}, resumed at offset {ResumedAt ?? "(not logged)"}")
        + (Users is { } users ? string.Create(CultureInfo.InvariantCulture, $", {users} users") : string.Empty);
}

/// <summary>
/// Which node holds which partition of the transactions topic, followed from the nodes' logs:
/// the consumer's own <c>Kafka source: assigned/revoked/lost …</c> lines, logged in the
/// consumer's callbacks (the pipeline's <c>Partitions assigned/revoked/lost: …</c> lines follow
/// them through the stream, later, and not at all while it is failing), and the pipeline's
/// <c>Partition …: last checkpoint epoch E, resuming at offset O, …[, U user(s) checkpointed]</c>
/// line as it takes an assigned partition up. A move is a partition assigned to another node
/// than the last one that held it (a node restarted and given its own partitions back moved
/// nothing). Lines of several nodes are fed here in the order they arrived, which is the order
/// of the group's rebalances: a node gives partitions up before another is given them.
/// </summary>
public sealed partial class PartitionOwnership(string topic)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, HashSet<int>> _held = [];
    private readonly Dictionary<int, int> _lastHolder = [];
    private readonly List<PartitionMove> _moves = [];
    private string _step = "start";

    /// <summary>What is under way (e.g. <c>event 4 (kill -9 node2)</c>): the cause moves are put down to.</summary>
    public string Step
    {
        get
        {
            lock (_gate)
            {
                return _step;
            }
        }

        set
        {
            lock (_gate)
            {
                _step = value;
            }
        }
    }

    public IReadOnlyList<PartitionMove> Moves
    {
        get
        {
            lock (_gate)
            {
                return [.. _moves];
            }
        }
    }

    /// <summary>Users whose state moved with a partition, over the moves whose log line said how many.</summary>
    public long UsersMoved => Moves.Sum(m => m.Users ?? 0);

    /// <summary>Moves whose node did not log how many users' states it resumed.</summary>
    public int MovesWithoutUserCount => Moves.Count(m => m.Users is null);

    /// <summary>The partitions <paramref name="node"/> holds now.</summary>
    public IReadOnlySet<int> HeldBy(int node)
    {
        lock (_gate)
        {
            return _held.TryGetValue(node, out var held) ? held.ToHashSet() : new HashSet<int>();
        }
    }

    /// <summary>
    /// Whether the group is at rest over <paramref name="running"/>: each of the
    /// <paramref name="partitions"/> held by exactly one of them, and each of them holding one at
    /// least where there are partitions enough (a node just started has joined the group).
    /// </summary>
    public bool Settled(IReadOnlyCollection<int> running, int partitions)
    {
        lock (_gate)
        {
            var held = running.Select(n => _held.TryGetValue(n, out var h) ? h : []).ToList();
            return held.Sum(h => h.Count) == partitions
                && held.SelectMany(h => h).Distinct().Count() == partitions
                && (partitions < running.Count || held.All(h => h.Count > 0));
        }
    }

    /// <summary>Who holds each partition among <paramref name="running"/>, e.g. <c>0:node1 1:node3 2:-</c>.</summary>
    public string Describe(IReadOnlyCollection<int> running, int partitions)
    {
        lock (_gate)
        {
            return string.Join(' ', Enumerable.Range(0, partitions).Select(p =>
                running.FirstOrDefault(n => _held.TryGetValue(n, out var h) && h.Contains(p)) is var node and > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{p}:node{node}")
                    : string.Create(CultureInfo.InvariantCulture, $"{p}:-")));
        }
    }

    /// <summary>A node started afresh or ended: it holds nothing (its partitions keep it as their last holder).</summary>
    public void Reset(int node)
    {
        lock (_gate)
        {
            _held.Remove(node);
        }
    }

    /// <summary>One line of <paramref name="node"/>'s standard error.</summary>
    public void Observe(int node, string line)
    {
        if (Resumed().Match(line) is { Success: true } resumed)
        {
            if (resumed.Groups["topic"].Value == topic)
            {
                var users = UsersCheckpointed().Match(line) is { Success: true } u ? long.Parse(u.Groups["users"].Value, CultureInfo.InvariantCulture) : (long?)null;
                TakenUp(node, Number(resumed.Groups["partition"]), resumed.Groups["offset"].Value, users);
            }

            return;
        }

        if (Assignment().Match(line) is not { Success: true } assignment)
        {
            return;
        }

        var partitions = Listed().Matches(assignment.Groups["list"].Value)
            .Where(m => m.Groups["topic"].Value == topic)
            .Select(m => Number(m.Groups["partition"]))
            .ToList();
        lock (_gate)
        {
            var held = _held.TryGetValue(node, out var h) ? h : _held[node] = [];
            if (assignment.Groups["what"].Value != "assigned")
            {
                held.ExceptWith(partitions);
                return;
            }

            foreach (var partition in partitions)
            {
                if (!held.Add(partition))
                {
                    continue;
                }

                if (_lastHolder.TryGetValue(partition, out var from) && from != node)
                {
                    _moves.Add(new PartitionMove(partition, from, node, _step, ResumedAt: null, Users: null));
                }

                _lastHolder[partition] = node;
            }
        }
    }

    /// <summary>Where <paramref name="node"/> resumed <paramref name="partition"/>, added to the move its assignment made.</summary>
    private void TakenUp(int node, int partition, string offset, long? users)
    {
        lock (_gate)
        {
            var last = _moves.FindLastIndex(m => m.Partition == partition);
            if (last >= 0 && _moves[last] is { ResumedAt: null } move && move.To == node && _lastHolder[partition] == node)
            {
                _moves[last] = move with { ResumedAt = offset, Users = users };
            }
        }
    }

    private static int Number(Group group) => int.Parse(group.Value, CultureInfo.InvariantCulture);

    /// <summary>The consumer's line, whose list is partitions only (its warnings name partitions too).</summary>
    [GeneratedRegex(@"Kafka source: (?<what>assigned|revoked|lost) (?<list>[^\s,]+ \[\[\d+\]\](?:, [^\s,]+ \[\[\d+\]\])*)$")]
    private static partial Regex Assignment();

    [GeneratedRegex(@"(?<topic>[^\s,]+) \[\[(?<partition>\d+)\]\]")]
    private static partial Regex Listed();

    [GeneratedRegex(@"Partition (?<topic>\S+) \[\[(?<partition>\d+)\]\]: last checkpoint epoch \d+, resuming at offset (?<offset>\d+|\(group offset\))")]
    private static partial Regex Resumed();

    [GeneratedRegex(@"(?<users>\d+) user\(s\) checkpointed")]
    private static partial Regex UsersCheckpointed();
}
