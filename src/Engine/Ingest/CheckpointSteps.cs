using Akka;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;

namespace FraudActors.Engine.Ingest;

/// <summary>What the ordered stream hands to the commit stage.</summary>
internal abstract record Step
{
    public static Step Nothing { get; } = new NothingToCommit();

    /// <summary>Whether the step has a checkpoint to commit (records' steps have none).</summary>
    public virtual bool Commits => true;

    public abstract Task<NotUsed> CommitAsync(CheckpointCoordinator coordinator, IKafkaSourceControl control, string topic);
}

internal sealed record NothingToCommit : Step
{
    public override bool Commits => false;

    public override Task<NotUsed> CommitAsync(CheckpointCoordinator coordinator, IKafkaSourceControl control, string topic) => Task.FromResult(NotUsed.Instance);
}

/// <summary>Several steps of one stream element, committed in order.</summary>
internal sealed record Steps(IReadOnlyList<Step> All) : Step
{
    public override bool Commits => All.Any(s => s.Commits);

    public override async Task<NotUsed> CommitAsync(CheckpointCoordinator coordinator, IKafkaSourceControl control, string topic)
    {
        foreach (var step in All)
        {
            await step.CommitAsync(coordinator, control, topic).ConfigureAwait(false);
        }

        return NotUsed.Instance;
    }
}

/// <summary>One partition's part of a barrier: its cut, its users' replies, its watermark at the cut.</summary>
internal sealed record PartitionCut(BarrierCut Cut, Task<UserCheckpointState[]> Replies, long? WatermarkMs)
{
    /// <summary>The rules the cut records, when the node has a rules board.</summary>
    public CutRules? Rules { get; init; }
}

/// <summary>
/// The rules a partition's cut records (<paramref name="Recorded"/>), the partition's rules to
/// tell once the commit is durable, and <paramref name="Adopted"/>, the offset of the latest
/// change the cut records, whose held alerts the commit releases.
/// </summary>
internal sealed record CutRules(PartitionRules Partition, Messages.Rules.RecordedRules Recorded, long? Adopted, Rules.RulesBoard Board);

/// <param name="Gate">The periodic checkpoints' gate; null for a revocation's checkpoint, which never waits for it.</param>
internal sealed record Barrier(long Epoch, DateTimeOffset Started, List<PartitionCut> Cuts, CheckpointGate? Gate) : Step
{
    /// <summary>The revocation this barrier is the final checkpoint of, told when it commits or fails.</summary>
    public Revocation? Revocation { get; init; }

    /// <summary>The run's outputs: every record before the barrier has added its own by the time it commits.</summary>
    public required OutputWriter Outputs { get; init; }

    public override async Task<NotUsed> CommitAsync(CheckpointCoordinator coordinator, IKafkaSourceControl control, string topic)
    {
        try
        {
            await coordinator.CommitAsync(this, control, topic).ConfigureAwait(false);
            Revocation?.Committed.TrySetResult([.. Cuts.Select(c => new TopicPartitionOffset(topic, new Partition(c.Cut.Partition), new Offset(c.Cut.NextOffset)))]);
        }
        catch (Exception e)
        {
            Revocation?.Committed.TrySetException(e);
            throw;
        }
        finally
        {
            if (Cuts.Count > 0 && Gate is not null)
            {
                Gate.InFlight = false;
                coordinator.CheckpointEnded();
            }
        }

        return NotUsed.Instance;
    }
}
