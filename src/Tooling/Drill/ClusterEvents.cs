namespace FraudActors.Tooling.Drill;

/// <summary>What the cluster drill does to a node, in the order the kinds take turns.</summary>
public enum ClusterEvent
{
    /// <summary>SIGKILL, then started again at once.</summary>
    KillHard,

    /// <summary>SIGINT: it leaves the cluster and the group gracefully.</summary>
    Leave,

    /// <summary>A node that left starts again and joins.</summary>
    Join,

    /// <summary>SIGSTOP until the others have downed it and taken its partitions, then SIGCONT: it must find itself out and exit 1.</summary>
    Freeze,
}

/// <summary>
/// Which event of the cluster drill comes next and to which nodes it may happen: pure, so that
/// the rotation can be tested without a cluster.
/// </summary>
public static class ClusterEvents
{
    public static readonly IReadOnlyList<ClusterEvent> Rotation = Enum.GetValues<ClusterEvent>();

    /// <summary>
    /// The kind whose turn it is at event <paramref name="index"/> (from 0), or the next one in
    /// the rotation that can happen with <paramref name="running"/> of <paramref name="nodes"/> running.
    /// </summary>
    public static ClusterEvent Choose(int index, IReadOnlyList<int> running, int nodes, Func<int, int> port)
    {
        for (var turn = 0; turn < Rotation.Count; turn++)
        {
            var kind = Rotation[(index + turn) % Rotation.Count];
            if (Nodes(kind, running, nodes, port).Count > 0)
            {
                return kind;
            }
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"no cluster event can happen with {running.Count} of {nodes} nodes running"));
    }

    /// <summary>
    /// The nodes <paramref name="kind"/> may happen to: a join to those not running; a kill, a leave
    /// or a freeze to none when fewer than half the nodes would be left (the split-brain resolver
    /// keeps the majority and downs the rest, docs/design.md). Two sides of equal size keep the side
    /// with the lowest address, so when two nodes run, a kill -9 or a freeze spares the one with
    /// the lowest port, lest the survivor down itself. A freeze thus always leaves another node to
    /// take the frozen one's partitions over.
    /// </summary>
    public static IReadOnlyList<int> Nodes(ClusterEvent kind, IReadOnlyList<int> running, int nodes, Func<int, int> port)
    {
        if (kind == ClusterEvent.Join)
        {
            return [.. Enumerable.Range(1, nodes).Except(running)];
        }

        if (running.Count < 2 || (running.Count - 1) * 2 < nodes)
        {
            return [];
        }

        return kind is ClusterEvent.KillHard or ClusterEvent.Freeze && running.Count == 2
            ? [.. running.Where(n => port(n) != running.Min(port))]
            : [.. running];
    }

    /// <summary>How the drill's lines name <paramref name="kind"/>.</summary>
    public static string Describe(ClusterEvent kind) => kind switch
    {
        ClusterEvent.KillHard => "kill -9",
        ClusterEvent.Leave => "leave",
        ClusterEvent.Freeze => "freeze",
        _ => "join",
    };
}
