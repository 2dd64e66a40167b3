using System.Collections.Concurrent;
using FraudActors.Engine.Time;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// What one run of the stream keeps: barrier bookkeeping, the checkpoint gate, each
/// partition's clock, the outputs not yet written, and the checkpoints recovered on assignment
/// until the stream takes them.
/// </summary>
internal sealed class RunState(long generation)
{
    public long Generation { get; } = generation;

    /// <summary>The run's alerts and window results, written behind the record path; set before the stream starts.</summary>
    public OutputWriter Outputs { get; set; } = null!;

    public CheckpointTracker Tracker { get; } = new();

    public CheckpointGate Gate { get; } = new();

    /// <summary>Touched only at the stream's turn.</summary>
    public Dictionary<int, PartitionClock> Clocks { get; } = [];

    public ConcurrentDictionary<int, PartitionCheckpoint> Recovered { get; } = new();

    /// <summary>Where each partition's user messages go in this run (<see cref="UserDelivery"/>); touched only at the stream's turn.</summary>
    public Dictionary<int, Akka.Actor.IActorRef> Routes { get; } = [];

    /// <summary>The node's rules (null: every record applies the users' configured rules, as before rules could change).</summary>
    public Rules.RulesBoard? Board { get; init; }

    /// <summary>Each partition's rules in force (docs/design.md, "Dynamic rules"); touched only at the stream's turn.</summary>
    public Dictionary<int, PartitionRules> Rules { get; } = [];

    /// <summary>The rules partition <paramref name="partition"/>'s records apply now; null without a board.</summary>
    public Messages.Rules.RuleSet? RulesFor(int partition) => Rules.TryGetValue(partition, out var rules) ? rules.Set : null;

    /// <summary>Per partition, the offset before which a change of its rules may not take effect (see <see cref="PartitionLifecycle.RulesFromAsync"/>).</summary>
    public ConcurrentDictionary<int, long> RulesNotBefore { get; } = new();

    private int _rulesCheckpointWanted;

    /// <summary>
    /// Asks for a checkpoint soon: the rules changed, or a partition's rules wait for one to
    /// record them. Any thread; the next clock tick, at the stream's turn, cuts it.
    /// </summary>
    public void RulesChanged() => Volatile.Write(ref _rulesCheckpointWanted, 1);

    /// <summary>Whether a checkpoint for the rules was asked for since the last call.</summary>
    public bool TakeRulesCheckpointWanted() => Interlocked.Exchange(ref _rulesCheckpointWanted, 0) == 1;

    /// <summary>
    /// At the stream's turn: <paramref name="partition"/> moves to the node's desired rules from
    /// <paramref name="offset"/> on, unrecorded: its alerts from there wait for the commit that
    /// records them, and the board shows the change. False when nothing differs.
    /// </summary>
    public bool AdoptRules(int partition, PartitionRules rules, long offset)
    {
        if (!rules.Adopt(Board!.Desired, offset))
        {
            return false;
        }

        rules.Waiting = false;
        Outputs.HoldFrom(partition, offset);
        Board.InForce(partition, rules.InForce, recorded: false);
        return true;
    }

    /// <summary>Revocations waiting for their records; touched only at the stream's turn.</summary>
    public List<Revocation> Revocations { get; } = [];

    /// <summary>The run ended: revocations still waiting let their partitions go without a final checkpoint.</summary>
    public void AbandonRevocations()
    {
        foreach (var revocation in Revocations.ToList())
        {
            revocation.Committed.TrySetException(new InvalidOperationException("the stream ended before the revoked partitions were checkpointed"));
        }
    }

    public PartitionClock ClockFor(int partition)
    {
        if (!Clocks.TryGetValue(partition, out var clock))
        {
            Clocks[partition] = clock = new PartitionClock(PartitionWatermark.Initial, long.MinValue);
        }

        return clock;
    }
}
