using Akka.Streams;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Time;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// A partition's life on this node: recovered from its journal before it is assigned, its clock
/// and users' timers restored when the assignment enters the stream, and cut by a final
/// checkpoint when the group takes it away.
/// </summary>
internal sealed class PartitionLifecycle(
    IPartitionJournals journals,
    UserDelivery users,
    CheckpointSettings checkpoints,
    PipelineMetrics metrics,
    ILoggingAdapter log,
    PipelineTime time,
    EventTimeDriver clocks,
    CheckpointCoordinator coordinator)
{
    /// <summary>
    /// This node reads the partition from now on: its journal (and users) are claimed for this
    /// node, and the partition starts from the journal's last commit — states handed over since
    /// are dropped, as in a rewind, since the records after the commit are read again.
    /// </summary>
    public async Task<PartitionCheckpoint> RecoverAsync(TopicPartition partition)
    {
        await journals.ClaimAsync(partition.Partition.Value).ConfigureAwait(false);
        if (checkpoints.Fence is { } fence)
        {
            // Its checkpoints are this node's from now on; a node that had it before is fenced.
            await fence.TakeAsync(partition.Partition.Value, CancellationToken.None).ConfigureAwait(false);
        }

        var checkpoint = await journals.For(partition.Partition.Value)
            .Ask<PartitionCheckpoint>(RewindPartition.Instance, checkpoints.Timeout)
            .ConfigureAwait(false);
        coordinator.Recovered(checkpoint.Epoch);
        await users.WakeAsync(partition.Partition.Value, checkpoints.Timeout).ConfigureAwait(false);
        log.Info(
            "Partition {0}: last checkpoint epoch {1}, resuming at offset {2}, {3} user(s) checkpointed, watermark {4}, {5} user(s) with timers",
            partition,
            checkpoint.Epoch,
            checkpoint.NextOffset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(group offset)",
            checkpoint.Users,
            checkpoint.WatermarkMs is { } w ? DateTimeOffset.FromUnixTimeMilliseconds(w).ToString("O", System.Globalization.CultureInfo.InvariantCulture) : "(none)",
            checkpoint.Timers.Count);
        return checkpoint;
    }

    /// <summary>
    /// A partition arrives with its last checkpoint: its watermark as it stood, and the users
    /// with timers — woken at once where the restored watermark has already passed them.
    /// </summary>
    public async Task<Step> AssignAsync(PartitionsAssigned assigned, RunState run)
    {
        log.Info("Partitions assigned: {0}", string.Join(", ", assigned.Partitions));
        var wakes = new List<Task>();
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var partition in assigned.Partitions.Select(p => p.Partition.Value))
        {
            run.Recovered.TryRemove(partition, out var checkpoint);
            var clock = new PartitionClock(
                time.Settings.Characteristic == TimeCharacteristic.EventTime
                    ? PartitionWatermark.Restored(checkpoint?.WatermarkMs, nowMs, time.Settings.Watermarks)
                    : PartitionWatermark.Initial,
                checkpoint?.WatermarkMs ?? long.MinValue);
            foreach (var timer in checkpoint?.Timers ?? [])
            {
                clock.WakeBy(timer.UserId, timer.DueMs);
            }

            run.Clocks[partition] = clock;
            UserDelivery.Forget(run, partition);
            run.Tracker.Started(partition, checkpoint?.NextOffset);
            RestoreRules(run, partition, checkpoint);
            metrics.Partitions.Assign(partition, checkpoint?.NextOffset);
            metrics.Partitions.Clock(partition, clock.Given);
            wakes.Add(clocks.WakeAsync(run, partition, clock, nowMs));
        }

        await Task.WhenAll(wakes).ConfigureAwait(false);
        return Step.Nothing;
    }

    /// <summary>
    /// The partition resumes with the rules its last commit recorded; where the node's desired
    /// rules differ, they take effect at once, from the resume offset, their alerts held until
    /// the next commit records them (docs/design.md, "Dynamic rules"), which is asked for now.
    /// </summary>
    private void RestoreRules(RunState run, int partition, PartitionCheckpoint? checkpoint)
    {
        if (run.Board is not { } board)
        {
            return;
        }

        var offset = checkpoint?.NextOffset ?? 0;
        var committed = checkpoint?.NextOffset is not null;
        run.Outputs.Forget(partition);
        var notBefore = committed && run.RulesNotBefore.TryRemove(partition, out var end) ? Math.Max(offset, end) : offset;
        var rules = PartitionRules.Restored(checkpoint?.Rules, board.Configured, committed ? checkpoint!.Epoch : null, offset, notBefore);
        if (!committed)
        {
            // Nothing recorded yet: its alerts wait for its first commit (see Restored).
            run.Outputs.HoldFrom(partition, offset);
        }

        if (notBefore > offset && !board.Desired.SameAs(rules.Set))
        {
            // The records before its end may have raised alerts under the recorded rules, before a crash.
            rules.Waiting = true;
            log.Info("Partition {0}: rules changed since its last checkpoint take effect from offset {1}, its end: the records before may have raised alerts under the rules it recorded", partition, notBefore);
        }
        else if (run.AdoptRules(partition, rules, offset))
        {
            log.Info("Partition {0}: rules changed since its last checkpoint take effect from offset {1}: {2}", partition, offset, Describe(rules.InForce, offset));
            run.RulesChanged();
        }

        run.Rules[partition] = rules;
        board.InForce(partition, rules.InForce, rules.IsRecorded);
    }

    /// <summary>
    /// Where a change of the rules may take effect in a partition resuming from a commit: not
    /// before its end offset now, since any record before it may have been applied, with its
    /// alerts written, under the rules the commit recorded before this node or run went down;
    /// whether the change is known now or arrives while those records are read again. Asked
    /// before the partition is assigned.
    /// </summary>
    public async Task RulesFromAsync(TopicPartition partition, PartitionCheckpoint checkpoint, RunState run)
    {
        if (run.Board is not { EndOffset: { } endOffset } || checkpoint.NextOffset is null)
        {
            return;
        }

        run.RulesNotBefore[partition.Partition.Value] = await Task.Run(() => endOffset(partition.Partition.Value)).ConfigureAwait(false);
    }

    /// <summary>The rules that take effect at <paramref name="offset"/>, as the log says them.</summary>
    internal static string Describe(Messages.Rules.RecordedRules rules, long offset) =>
        string.Join("; ", rules.Rules.Where(r => r.SinceEpoch is null && r.SinceOffset == offset).Select(r =>
            $"{r.Spec.Name} {(r.Spec.Enabled ? "on" : "off")} v{r.Spec.Version} ({string.Join(", ", r.Spec.Params.Select(p => $"{p.Key}={p.Value}"))})"));

    /// <summary>
    /// The group takes <paramref name="emitted"/>'s partitions away (called on the source's own
    /// thread, which waits): once every record emitted of them has been handled, a barrier cuts
    /// them, and the returned task completes with their offsets when that checkpoint commits.
    /// </summary>
    public async Task<IReadOnlyList<TopicPartitionOffset>> RevokeAsync(IReadOnlyList<TopicPartitionOffset> emitted, RunState run, ISourceQueueWithComplete<SourceEvent> ticks)
    {
        var revocation = new Revocation(emitted);
        return await TransactionPipeline.OfferUntilTakenAsync(ticks, revocation).ConfigureAwait(false)
            ? await revocation.Committed.Task.ConfigureAwait(false)
            : throw new InvalidOperationException("the stream has ended");
    }

    /// <summary>At the stream's turn: the revocation waits there for the records emitted before it.</summary>
    public void Revoking(Revocation revocation, RunState run) => run.Revocations.Add(revocation);

    public List<Step> ReadyRevocations(RunState run)
    {
        var ready = run.Revocations.Where(r => r.Emitted.All(p => p.Offset == Offset.Unset || run.Tracker.LastOffset(p.Partition.Value) >= p.Offset.Value - 1)).ToList();
        return [.. ready.Select(r =>
        {
            run.Revocations.Remove(r);
            return (Step)CutRevoked(run, r);
        })];
    }

    /// <summary>
    /// The final checkpoint of revoked partitions: those that moved are cut now, and the partitions
    /// stop being woken by the clock (their next owner wakes their users from this checkpoint).
    /// It commits behind any checkpoint already under way, whatever the interval and min-pause.
    /// </summary>
    private Barrier CutRevoked(RunState run, Revocation revocation)
    {
        var epoch = coordinator.NextEpoch();
        var started = DateTimeOffset.UtcNow;
        var partitions = revocation.Emitted.Select(p => p.Partition.Value).ToList();
        var cuts = partitions.Where(run.Tracker.Partitions.Contains).ToList().Select(p => coordinator.CutPartition(run, epoch, p)).ToList();
        foreach (var partition in partitions)
        {
            run.Clocks.Remove(partition);
        }

        log.Info("Checkpoint {0} triggered for revoked partition(s) {1}: {2} changed user(s)", epoch, string.Join(",", partitions), cuts.Sum(c => c.Cut.Expected.Count));
        return new Barrier(epoch, started, cuts, Gate: null) { Revocation = revocation, Outputs = run.Outputs };
    }

    /// <summary>The partitions are gone from this node: their positions, clocks and journals are let go.</summary>
    public void Revoked(PartitionsRevoked revoked, RunState run)
    {
        log.Info("Partitions {0}: {1}", revoked.Lost ? "lost" : "revoked", string.Join(", ", revoked.Partitions));
        foreach (var partition in revoked.Partitions)
        {
            run.Tracker.Forget(partition.Partition.Value);
            run.Clocks.Remove(partition.Partition.Value);
            run.Rules.Remove(partition.Partition.Value);
            run.Board?.Forget(partition.Partition.Value);
            run.Outputs.Forget(partition.Partition.Value);
            UserDelivery.Forget(run, partition.Partition.Value);
            metrics.Partitions.Revoked(partition.Partition.Value);
            journals.Release(partition.Partition.Value);
        }
    }
}

/// <summary>
/// Partitions the group takes away, with the offset after the last record the source emitted
/// of each: their final checkpoint waits until those records are handled.
/// </summary>
internal sealed record Revocation(IReadOnlyList<TopicPartitionOffset> Emitted) : SourceEvent
{
    public TaskCompletionSource<IReadOnlyList<TopicPartitionOffset>> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
