using Confluent.Kafka;
using FraudActors.Engine.Kafka;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// Checkpoint coordination: a tick becomes a barrier cut at the stream's turn, and the barrier
/// commits behind the stream (users' states to the partition journal, then the offsets).
/// Epochs rise across the runs of one pipeline.
/// </summary>
internal sealed class CheckpointCoordinator(
    UserDelivery users,
    IPartitionJournals journals,
    CheckpointSettings checkpoints,
    CheckpointHistory history,
    PipelineMetrics metrics,
    ILoggingAdapter log)
{
    private long _epoch;

    /// <summary>A partition recovered at <paramref name="epoch"/>: later checkpoints number above it.</summary>
    public void Recovered(long epoch) => InterlockedMax(ref _epoch, epoch);

    public long NextEpoch() => Interlocked.Increment(ref _epoch);

    /// <summary>At the stream's turn: the tick cuts a barrier, unless a periodic tick must wait.</summary>
    public Step Trigger(CheckpointTick tick, RunState run)
    {
        if (!tick.IsFinal && (run.Gate.InFlight || (!tick.ForRules && DateTimeOffset.UtcNow - history.LastEnded < checkpoints.MinPause)))
        {
            // One checkpoint at a time (Flink's max-concurrent-checkpoints = 1), and min-pause
            // after it ends: the partitions keep moving and a later tick cuts them.
            return Step.Nothing;
        }

        return Cut(run);
    }

    /// <summary>Cuts every partition that moved, sending the barrier to its dirty users now, behind their records.</summary>
    private Barrier Cut(RunState run)
    {
        var epoch = NextEpoch();
        var started = DateTimeOffset.UtcNow;
        AdoptRules(run);
        var cuts = run.Tracker.Partitions.ToList().Select(p => CutPartition(run, epoch, p)).ToList();
        if (cuts.Count > 0)
        {
            run.Gate.InFlight = true;
            metrics.RecordCheckpointsInProgress(cuts.Count);

            // Flink's "Triggering checkpoint": operators and the drill see when one is under way.
            log.Info("Checkpoint {0} triggered: partition(s) {1}, {2} changed user(s)", epoch, string.Join(",", cuts.Select(c => c.Cut.Partition)), cuts.Sum(c => c.Cut.Expected.Count));
        }

        return new Barrier(epoch, started, cuts, run.Gate) { Outputs = run.Outputs };
    }

    /// <summary>
    /// At a cut, each partition whose rules differ from the node's desired ones adopts them from
    /// the cut's offset on, and a partition with rules not yet recorded is cut, though no record
    /// moved it, so that this checkpoint records them (docs/design.md, "Dynamic rules"). Alerts
    /// of the records after the cut wait for that commit.
    /// </summary>
    private void AdoptRules(RunState run)
    {
        if (run.Board is null)
        {
            return;
        }

        foreach (var (partition, rules) in run.Rules)
        {
            var offset = run.Tracker.LastOffset(partition) is { } last ? last + 1 : 0;
            if (offset >= rules.NotBefore && run.AdoptRules(partition, rules, offset))
            {
                log.Info("Partition {0}: rules take effect from offset {1}: {2}", partition, offset, PartitionLifecycle.Describe(rules.InForce, offset));
            }

            if (!rules.IsRecorded)
            {
                run.Tracker.Mark(partition);
            }
        }
    }

    /// <summary>Sends partition <paramref name="partition"/>'s barrier to its dirty users now, behind their records.</summary>
    public PartitionCut CutPartition(RunState run, long epoch, int partition)
    {
        var cut = run.Tracker.Cut(epoch, partition);
        var replies = new BarrierReplies(((IInternalActorRef)users.Region).Provider, cut.Expected.Count, checkpoints.Timeout);
        var to = users.For(run, partition);
        foreach (var (user, last) in cut.Expected)
        {
            to.Tell(new CheckpointBarrier(epoch, partition, user) { ExpectedOffset = last == CheckpointTracker.AnyOffset ? null : last }, replies);
        }

        var watermark = run.Clocks.TryGetValue(partition, out var clock) && clock.Given != long.MinValue ? clock.Given : (long?)null;
        if (run.Rules.TryGetValue(partition, out var rules))
        {
            var (recorded, adopted) = rules.ForCut(epoch);
            return new PartitionCut(cut, replies.States, watermark) { Rules = new CutRules(rules, recorded, adopted, run.Board!) };
        }

        return new PartitionCut(cut, replies.States, watermark);
    }

    public async Task CommitAsync(Barrier barrier, IKafkaSourceControl control, string topic)
    {
        foreach (var partitionCut in barrier.Cuts)
        {
            var (cut, replies, watermark) = partitionCut;
            CutOutcome outcome;
            try
            {
                outcome = CheckpointTracker.Verify(cut, await replies.ConfigureAwait(false));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                outcome = new CutOutcome([], $"a user did not answer within {checkpoints.Timeout}");
            }

            if (!outcome.IsComplete)
            {
                throw await FailAsync(barrier, cut, outcome.Broken!).ConfigureAwait(false);
            }

            try
            {
                // The outputs of the records before the barrier are in the tables before the
                // offsets after them are committed (docs/design.md, "Outputs before the commit").
                await barrier.Outputs.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw await FailAsync(barrier, cut, "alerts or window results not written: " + Storage.DatabaseError.Describe(e), e).ConfigureAwait(false);
            }

            await CheckOwnershipAsync(barrier, cut).ConfigureAwait(false);
            CheckpointWritten written;
            var writing = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                written = await journals.For(cut.Partition)
                    .Ask<CheckpointWritten>(new WriteCheckpoint(cut.Epoch, cut.NextOffset, outcome.States, watermark) { Rules = partitionCut.Rules?.Recorded }, checkpoints.Timeout)
                    .ConfigureAwait(false);
                metrics.RecordJournalWrite(writing.Elapsed);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                throw await FailAsync(barrier, cut, $"the partition journal did not commit within {checkpoints.Timeout}").ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The journal's database failed the write (the journal says why, at once).
                throw await FailAsync(barrier, cut, Storage.DatabaseError.Describe(e), e).ConfigureAwait(false);
            }

            if (partitionCut.Rules is { } rules)
            {
                // The rules in force from the cut are durable: the alerts kept back for them go out.
                rules.Partition.Committed(rules.Recorded);
                if (rules.Adopted is { } adopted)
                {
                    barrier.Outputs.Recorded(cut.Partition, adopted);
                    log.Info("Partition {0}: rules in force from offset {1} recorded by checkpoint {2}", cut.Partition, adopted, cut.Epoch);
                }

                rules.Board.InForce(cut.Partition, rules.Partition.InForce, rules.Partition.IsRecorded);
            }

            var completed = new CheckpointRecord(cut.Epoch, cut.Partition, barrier.Started, DateTimeOffset.UtcNow - barrier.Started, written.Users, written.Bytes, written.NextOffset, CheckpointStatus.Completed, null);
            await history.AddAsync(completed, LogHistoryFailure).ConfigureAwait(false);
            metrics.RecordCheckpoint(completed);
            control.StoreOffsets([new TopicPartitionOffset(topic, new Partition(cut.Partition), new Offset(cut.NextOffset))]);
            metrics.Partitions.Committed(cut.Partition, cut.NextOffset);
        }
    }

    /// <summary>
    /// The partition is still this node's in the store (<see cref="PartitionFence"/>): a node that
    /// lost it while frozen or split off writes no checkpoint of it, and stops (its node exits).
    /// </summary>
    private async Task CheckOwnershipAsync(Barrier barrier, BarrierCut cut)
    {
        if (checkpoints.Fence is not { } fence)
        {
            return;
        }

        string? lost;
        try
        {
            lost = await fence.TakenOverAsync(cut.Partition, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw await FailAsync(barrier, cut, "partition ownership not checked: " + Storage.DatabaseError.Describe(e), e).ConfigureAwait(false);
        }

        if (lost is not null)
        {
            log.Error("fenced: {0}; this node writes no checkpoint of it and stops reading", lost);
            throw await FailAsync(barrier, cut, "fenced: " + lost).ConfigureAwait(false);
        }
    }

    private async Task<CheckpointFailedException> FailAsync(Barrier barrier, BarrierCut cut, string why, Exception? cause = null)
    {
        var failed = new CheckpointRecord(cut.Epoch, cut.Partition, barrier.Started, DateTimeOffset.UtcNow - barrier.Started, 0, 0, cut.NextOffset, CheckpointStatus.Failed, why);
        await history.AddAsync(failed, LogHistoryFailure).ConfigureAwait(false);
        metrics.RecordCheckpoint(failed);
        log.Warning("Checkpoint {0} of partition {1} failed: {2}; rewinding to the last commit", cut.Epoch, cut.Partition, why);
        return new CheckpointFailedException($"checkpoint {cut.Epoch} of partition {cut.Partition}: {why}", cause);
    }

    public void CheckpointEnded() => metrics.RecordCheckpointsInProgress(0);

    private void LogHistoryFailure(Exception e) => log.Warning("Checkpoint history not written: {0}", Storage.DatabaseError.Describe(e));

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }
}

/// <summary>Whether a checkpoint of this run is between its cut and its commit.</summary>
internal sealed class CheckpointGate
{
    private volatile bool _inFlight;

    public bool InFlight
    {
        get => _inFlight;
        set => _inFlight = value;
    }
}
