using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Kafka;
using FraudActors.Actors.Time;
using FraudActors.Actors.Windows;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;

namespace FraudActors.Actors.Ingest;

/// <param name="Parallelism">
/// Records in flight at once: the bound that makes <c>Tell</c>-style sharding back-pressured.
/// They travel in up to <see cref="GroupsInFlight"/> groups: records that arrive while the
/// users are busy are sent together and answered together (a lone record goes alone, at once).
/// </param>
/// <param name="AskTimeout">How long a user actor may take to apply a record before the stream fails and restarts.</param>
public sealed record PipelineSettings(int Parallelism, TimeSpan AskTimeout)
{
    public static PipelineSettings Default { get; } = new(256, TimeSpan.FromSeconds(30));

    /// <summary>Groups of records in flight at once.</summary>
    public int GroupsInFlight => Math.Min(4, Parallelism);

    /// <summary>The most records in one group.</summary>
    public int GroupSize => Math.Max(1, Parallelism / GroupsInFlight);
}

/// <summary>A running pipeline: its Kafka source, a way to ask for a checkpoint now, and its completion.</summary>
public sealed record PipelineRun(IKafkaSourceControl Control, Func<Task> CheckpointNow, Task Completion);

/// <summary>
/// The pipeline's time: the characteristic and watermarks, where window results go (the outbox;
/// required when users run windows) and the late side output's topic (null: late records are
/// only counted).
/// </summary>
public sealed record PipelineTime(TimeSettings Settings, IWindowResultSink? Windows = null, DeadLetterPublisher? Late = null)
{
    public static PipelineTime Default { get; } = new(TimeSettings.Default);
}

/// <summary>Thrown when a checkpoint cannot commit; the stream restarts from the last commit.</summary>
public sealed class CheckpointFailedException(string message, Exception? cause = null) : Exception(message, cause);

/// <summary>
/// The path of a record: Kafka source → parse and validate → the user's actor (or the DLQ) →
/// its alerts published. Checkpoint barriers enter the same ordered stream (DESIGN.md section
/// 4): at a barrier every dirty user of a partition answers with its state as of the barrier,
/// the partition journal persists the states and then the commit event with the offset, and
/// only then is the offset stored for the consumer group.
/// </summary>
public sealed class TransactionPipeline(
    IActorRef users,
    IPartitionJournals journals,
    TransactionParser parser,
    IAlertSink alerts,
    DeadLetterPublisher deadLetters,
    PipelineSettings settings,
    CheckpointSettings checkpoints,
    CheckpointHistory history,
    PipelineMetrics metrics,
    ILoggingAdapter log,
    PipelineTime? time = null)
{
    private readonly PipelineTime _time = time ?? PipelineTime.Default;

    public PipelineMetrics Metrics => metrics;
    private long _epoch;
    private int _firstRecordLogged;

    /// <summary>
    /// This node reads the partition from now on: its journal (and users) are claimed for this
    /// node, and the partition starts from the journal's last commit — states handed over since
    /// are dropped, as in a rewind, since the records after the commit are read again.
    /// </summary>
    private async Task<PartitionCheckpoint> RecoverAsync(TopicPartition partition)
    {
        await journals.ClaimAsync(partition.Partition.Value).ConfigureAwait(false);
        var checkpoint = await journals.For(partition.Partition.Value)
            .Ask<PartitionCheckpoint>(RewindPartition.Instance, checkpoints.Timeout)
            .ConfigureAwait(false);
        InterlockedMax(ref _epoch, checkpoint.Epoch);
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
    /// Runs the stream. <paramref name="generation"/> names the run: users seeing another one
    /// reload their last checkpointed state, so a restarted stream rewinds state and offsets together.
    /// </summary>
    public PipelineRun Run(KafkaSourceSettings source, IMaterializer materializer, long generation)
    {
        var run = new RunState(generation);
        var (ticks, barriers) = Source.Queue<SourceEvent>(4, OverflowStrategy.DropNew).PreMaterialize(materializer);

        // The source runs in an actor of its own (pre-materialized), so it can wait in a
        // revocation for the rest of the stream to checkpoint the revoked partitions.
        var (control, records) = Source.FromGraph(new KafkaSourceStage(source with
        {
            StartOffset = async partition =>
            {
                // Before the partition is assigned and its assignment enters the stream.
                var checkpoint = await RecoverAsync(partition).ConfigureAwait(false);
                run.Recovered[partition.Partition.Value] = checkpoint;
                return checkpoint.NextOffset;
            },
            Revoking = emitted => RevokeAsync(emitted, run, ticks),
        }))
            .PreMaterialize(materializer);
        return Run(run, records, control, source.Topics[0], ticks, barriers, materializer);
    }

    /// <summary>
    /// Runs the stream over an in-process source instead of Kafka (the engine benchmark): the
    /// same path from parsing to checkpoints; <paramref name="control"/> takes the offsets a
    /// checkpoint commits.
    /// </summary>
    public PipelineRun Run(Source<SourceEvent, NotUsed> records, IKafkaSourceControl control, string topic, IMaterializer materializer, long generation)
    {
        var (ticks, barriers) = Source.Queue<SourceEvent>(4, OverflowStrategy.DropNew).PreMaterialize(materializer);
        return Run(new RunState(generation), records, control, topic, ticks, barriers, materializer);
    }

    private PipelineRun Run(
        RunState run,
        Source<SourceEvent, NotUsed> records,
        IKafkaSourceControl control,
        string topic,
        ISourceQueueWithComplete<SourceEvent> ticks,
        Source<SourceEvent, NotUsed> barriers,
        IMaterializer materializer)
    {
        var timer = new Timer(_ => ticks.OfferAsync(CheckpointTick.Periodic), null, checkpoints.Interval, checkpoints.Interval);
        var clockTicks = Source.Tick(_time.Settings.TickInterval, _time.Settings.TickInterval, (SourceEvent)ClockTick.Instance).MapMaterializedValue(_ => NotUsed.Instance);
        var replies = new UserReplies(((IInternalActorRef)users).Provider);
        metrics.RecordRunStarted(run.Generation);
        var abort = KillSwitches.Shared("pipeline-" + run.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var commits = new CommitChain(this, control, topic, abort);
        var streamed = records
            .Merge(barriers, eagerComplete: true)
            .Merge(clockTicks, eagerComplete: true)
            .Via(abort.Flow<SourceEvent>())
            .Batch(settings.GroupSize, e => new List<SourceEvent> { e }, (events, e) =>
            {
                events.Add(e);
                return events;
            })
            .SelectAsync(settings.GroupsInFlight, events => Handle(events, run, replies))
            .SelectAsync(1, commits.Enqueue)
            .RunWith(Sink.Ignore<NotUsed>(), materializer);
        var completion = commits.AfterAsync(streamed);
        completion.ContinueWith(
            _ =>
            {
                timer.Dispose();
                replies.Dispose();
                run.AbandonRevocations();
            },
            TaskScheduler.Default);
        return new PipelineRun(control, () => OfferUntilTakenAsync(ticks, CheckpointTick.Final), completion);
    }

    /// <summary>
    /// The group takes <paramref name="emitted"/>'s partitions away (called on the source's own
    /// thread, which waits): once every record emitted of them has been handled, a barrier cuts
    /// them, and the returned task completes with their offsets when that checkpoint commits.
    /// </summary>
    private async Task<IReadOnlyList<TopicPartitionOffset>> RevokeAsync(IReadOnlyList<TopicPartitionOffset> emitted, RunState run, ISourceQueueWithComplete<SourceEvent> ticks)
    {
        var revocation = new Revocation(emitted);
        return await OfferUntilTakenAsync(ticks, revocation).ConfigureAwait(false)
            ? await revocation.Committed.Task.ConfigureAwait(false)
            : throw new InvalidOperationException("the stream has ended");
    }

    /// <summary>
    /// Runs on the stream's turn, in order: records' messages and barriers' messages leave in
    /// stream order. Consecutive records form one group, told to their users at once and
    /// answered into <paramref name="replies"/>; the returned step completes when every part has.
    /// </summary>
    private Task<Step> Handle(List<SourceEvent> events, RunState run, UserReplies replies)
    {
        var steps = new List<Task<Step>>(1);
        RecordGroup? group = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is KafkaRecord record)
            {
                group ??= new RecordGroup(events.Skip(i).TakeWhile(e => e is KafkaRecord).Count(), run.Generation);
                Send(record, run, replies, group);
            }
            else
            {
                Flush(ref group);
                steps.Add(HandleEvent(events[i], run));
            }

            if (run.Revocations.Count > 0 && ReadyRevocations(run) is { Count: > 0 } barriers)
            {
                // A revocation waits for the records emitted before it (some may still be
                // behind it in the stream); once they are sent, its barrier goes now, behind them.
                Flush(ref group);
                steps.Add(Task.FromResult<Step>(new Steps(barriers)));
            }
        }

        Flush(ref group);
        return steps.Count == 1 ? steps[0] : AllAsync(steps);

        void Flush(ref RecordGroup? sent)
        {
            if (sent is not null)
            {
                sent.Close();
                steps.Add(CompleteAsync(sent, replies));
                sent = null;
            }
        }

        static async Task<Step> AllAsync(List<Task<Step>> all) => new Steps(await Task.WhenAll(all).ConfigureAwait(false));
    }

    private List<Step> ReadyRevocations(RunState run)
    {
        var ready = run.Revocations.Where(r => r.Emitted.All(p => p.Offset == Offset.Unset || run.Tracker.LastOffset(p.Partition.Value) >= p.Offset.Value - 1)).ToList();
        return [.. ready.Select(r =>
        {
            run.Revocations.Remove(r);
            return (Step)CutRevoked(run, r);
        })];
    }

    private Task<Step> HandleEvent(SourceEvent e, RunState run)
    {
        switch (e)
        {
            case ClockTick:
                return TickAsync(run);
            case CheckpointTick { IsFinal: false } when run.Gate.InFlight || DateTimeOffset.UtcNow - history.LastEnded < checkpoints.MinPause:
                // One checkpoint at a time (Flink's max-concurrent-checkpoints = 1), and min-pause
                // after it ends: the partitions keep moving and a later tick cuts them.
                return Task.FromResult<Step>(Step.Nothing);
            case CheckpointTick:
                return Task.FromResult<Step>(Cut(run));
            case PartitionsAssigned assigned:
                log.Info("Partitions assigned: {0}", string.Join(", ", assigned.Partitions));
                return AssignAsync(assigned, run);
            case Revocation revocation:
                run.Revocations.Add(revocation);
                return Task.FromResult<Step>(Step.Nothing);
            case PartitionsRevoked revoked:
                log.Info("Partitions {0}: {1}", revoked.Lost ? "lost" : "revoked", string.Join(", ", revoked.Partitions));
                foreach (var partition in revoked.Partitions)
                {
                    run.Tracker.Forget(partition.Partition.Value);
                    run.Clocks.Remove(partition.Partition.Value);
                    metrics.Partitions.Revoked(partition.Partition.Value);
                    journals.Release(partition.Partition.Value);
                }

                return Task.FromResult<Step>(Step.Nothing);
            default:
                return Task.FromResult<Step>(Step.Nothing);
        }
    }

    /// <summary>
    /// A partition arrives with its last checkpoint: its watermark as it stood, and the users
    /// with timers — woken at once where the restored watermark has already passed them.
    /// </summary>
    private async Task<Step> AssignAsync(PartitionsAssigned assigned, RunState run)
    {
        var wakes = new List<Task>();
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var partition in assigned.Partitions.Select(p => p.Partition.Value))
        {
            run.Recovered.TryRemove(partition, out var checkpoint);
            var clock = new PartitionClock(
                _time.Settings.Characteristic == TimeCharacteristic.EventTime
                    ? PartitionWatermark.Restored(checkpoint?.WatermarkMs, nowMs, _time.Settings.Watermarks)
                    : PartitionWatermark.Initial,
                checkpoint?.WatermarkMs ?? long.MinValue);
            foreach (var timer in checkpoint?.Timers ?? [])
            {
                clock.Schedule(timer.UserId, timer.DueMs);
            }

            run.Clocks[partition] = clock;
            run.Tracker.Started(partition, checkpoint?.NextOffset);
            metrics.Partitions.Assign(partition, checkpoint?.NextOffset);
            metrics.Partitions.Clock(partition, clock.Given);
            wakes.Add(WakeAsync(run, partition, clock, nowMs, except: null));
        }

        await Task.WhenAll(wakes).ConfigureAwait(false);
        return Step.Nothing;
    }

    /// <summary>
    /// The clock tick: an idle partition's watermark follows the slowest partition still receiving
    /// records (or, when all are idle, the wall clock), processing time moves, and users whose
    /// replies came after the watermark passed their timers are woken now.
    /// </summary>
    private async Task<Step> TickAsync(RunState run)
    {
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var watermarks = _time.Settings.Watermarks;
        var eventTime = _time.Settings.Characteristic == TimeCharacteristic.EventTime;
        var active = run.Clocks.Values.Where(c => c.Watermark.Started && !c.Watermark.IsIdle(nowMs, watermarks)).ToList();
        var slowestActive = active.Count > 0 ? active.Min(c => c.Watermark.Current(nowMs, watermarks)) : long.MinValue;
        var wakes = new List<Task>();
        foreach (var (partition, clock) in run.Clocks)
        {
            if (eventTime && clock.Watermark.IsIdle(nowMs, watermarks) && slowestActive != long.MinValue)
            {
                clock.Watermark = clock.Watermark.FollowTo(slowestActive, nowMs, watermarks);
            }

            clock.Advance(eventTime ? clock.Watermark.Current(nowMs, watermarks) : nowMs);
            metrics.Partitions.Clock(partition, clock.Given);
            wakes.Add(WakeAsync(run, partition, clock, nowMs, except: null));
        }

        await Task.WhenAll(wakes).ConfigureAwait(false);
        return Step.Nothing;
    }

    /// <summary>
    /// Sends <see cref="AdvanceTime"/> to every user of the partition due at its clock — now, at
    /// the stream's turn, so it reaches each user in order with its records — then publishes
    /// what fired and indexes when each user next needs waking.
    /// </summary>
    private async Task WakeAsync(RunState run, int partition, PartitionClock clock, long nowMs, string? except)
    {
        var due = clock.TakeDue(clock.Given);
        if (due.Count == 0)
        {
            return;
        }

        var replies = new List<Task<TimeAdvanced>>(due.Count);
        foreach (var user in due)
        {
            if (user == except)
            {
                continue; // its record carries the clock; the reply schedules it again
            }

            run.Tracker.Touched(partition, user);
            replies.Add(users.Ask<TimeAdvanced>(new AdvanceTime(partition, user, clock.Given, nowMs, run.Generation), settings.AskTimeout));
        }

        var fired = new List<WindowResult>();
        foreach (var reply in await Task.WhenAll(replies).ConfigureAwait(false))
        {
            clock.Schedule(reply.UserId, reply.NextTimerMs);
            fired.AddRange(reply.Windows);
        }

        await PublishWindowsAsync(fired).ConfigureAwait(false);
    }

    private async Task PublishWindowsAsync(IReadOnlyList<WindowResult> results)
    {
        if (results.Count == 0)
        {
            return;
        }

        var sink = _time.Windows ?? throw new InvalidOperationException("users emit window results but the pipeline has no window result sink");
        await sink.PublishAsync(results, CancellationToken.None).ConfigureAwait(false);
        metrics.RecordWindowResults(results.Count);
    }

    /// <summary>At the stream's turn: parses the record, moves its partition's clock and tells its user (or the dead letters).</summary>
    private void Send(KafkaRecord record, RunState run, UserReplies replies, RecordGroup group)
    {
        metrics.RecordIn();
        var tracker = run.Tracker;
        // How far ahead of its record an event time may be matters only where event time drives the clock.
        var recordTimestampMs = _time.Settings.Characteristic == TimeCharacteristic.EventTime ? record.Timestamp.ToUnixTimeMilliseconds() : (long?)null;
        var outcome = parser.Parse(record.Key, record.Key is not null, record.Value, recordTimestampMs);
        if (!outcome.IsValid)
        {
            tracker.Skipped(record.Partition, record.Offset);
            metrics.Partitions.Skipped(record.Partition, record.Offset);
            group.Sent.Add(new RecordSent(record, null, null));
            group.Started.Add(DeadLetterAsync(record, outcome));
            return;
        }

        // The partition's clock, in stream order: the same records give the same watermarks on replay.
        var tx = outcome.Transaction!;
        var clock = run.ClockFor(record.Partition);
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var watermark = clock.Watermark;
        var sequence = replies.Expect(group, group.Sent.Count);
        var command = RecordClock.Stamp(new ApplyTransaction(record.Partition, record.Offset, tx, run.Generation) { Sequence = sequence }, ref watermark, nowMs, _time.Settings);
        clock.Watermark = watermark;
        clock.Advance(command.WatermarkMs);
        tracker.Sent(record.Partition, command.UserId, record.Offset);
        metrics.Partitions.Read(record.Partition, command.UserId, record.Offset, clock.Given);
        group.Sent.Add(new RecordSent(record, command, clock));
        users.Tell(command, replies);
        if (WakeAsync(run, record.Partition, clock, nowMs, except: command.UserId) is { IsCompletedSuccessfully: false } woken)
        {
            group.Started.Add(woken);
        }

        if (command.Late)
        {
            // The late side output: counted always, and on its topic when one is configured.
            metrics.RecordLate();
            if (_time.Late is { } lateOutput)
            {
                group.Started.Add(lateOutput.PublishAsync(record, RejectReason.Late, $"event time {tx.Timestamp:O} is behind the partition's watermark by more than the allowed lateness ({_time.Settings.Watermarks.AllowedLateness})", CancellationToken.None));
            }
        }
    }

    private async Task DeadLetterAsync(KafkaRecord record, ParseOutcome outcome)
    {
        await deadLetters.PublishAsync(record, outcome.Reason, outcome.Detail, CancellationToken.None).ConfigureAwait(false);
        metrics.RecordDeadLettered();
    }

    /// <summary>Once every user of the group has answered: their timers indexed, their alerts and window results published, in record order.</summary>
    private async Task<Step> CompleteAsync(RecordGroup group, UserReplies replies)
    {
        try
        {
            await group.Replied.WaitAsync(settings.AskTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            replies.Forget(group);
            var missing = group.Sent.Where((s, i) => s.Command is not null && group.Replies[i] is null).Select(s => s.Command!).ToList();
            if (missing.Count > 0)
            {
                throw new AskTimeoutException($"{missing.Count} record(s) not applied within {settings.AskTimeout}, the first: user {missing[0].UserId}, partition {missing[0].Partition}, offset {missing[0].Offset}");
            }

            // The last reply landed between the timeout and now: the group is whole.
        }

        List<Alert>? raised = null;
        List<WindowResult>? closed = null;
        for (var i = 0; i < group.Sent.Count; i++)
        {
            if (group.Replies[i] is not { } applied)
            {
                continue;
            }

            var (record, command, clock) = group.Sent[i];
            clock!.Schedule(applied.UserId, applied.NextTimerMs);
            if (applied.ProcessingError is { } error)
            {
                // One record's failure is that record's: it goes to the dead letters, the stream goes on.
                group.Started.Add(DeadLetterAsync(record, ParseOutcome.Reject(RejectReason.ProcessingError, error)));
                continue;
            }

            metrics.RecordApplied(applied.Duplicate, group.Generation);
            if (!applied.Duplicate && Interlocked.Exchange(ref _firstRecordLogged, 1) == 0)
            {
                // The recovery figure operators watch: how long from start until records flow again.
                var sinceStart = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
                log.Info("First record processed: partition {0}, offset {1}, {2:0} ms after the process started", record.Partition, record.Offset, sinceStart.TotalMilliseconds);
            }

            if (applied.DuplicateTxId)
            {
                group.Started.Add(DeadLetterAsync(record, ParseOutcome.Reject(
                    RejectReason.DuplicateTransaction,
                    $"tx_id '{command!.Transaction.TxId}' of user '{applied.UserId}' was already applied within the dedup window")));
            }

            if (applied.Alerts.Count > 0)
            {
                (raised ??= []).AddRange(applied.Alerts);
            }

            if (applied.Windows.Count > 0)
            {
                (closed ??= []).AddRange(applied.Windows);
            }
        }

        // The group's alerts and window results, in record order, each kind in one insert.
        if (raised is not null)
        {
            await alerts.PublishAsync(raised, CancellationToken.None).ConfigureAwait(false);
            metrics.RecordAlerts(raised.Count);
        }

        await PublishWindowsAsync(closed ?? []).ConfigureAwait(false);
        await Task.WhenAll(group.Started).ConfigureAwait(false);
        return Step.Nothing;
    }

    /// <summary>Cuts every partition that moved, sending the barrier to its dirty users now, behind their records.</summary>
    private Barrier Cut(RunState run)
    {
        var epoch = Interlocked.Increment(ref _epoch);
        var started = DateTimeOffset.UtcNow;
        var cuts = run.Tracker.Partitions.ToList().Select(p => CutPartition(run, epoch, p)).ToList();
        if (cuts.Count > 0)
        {
            run.Gate.InFlight = true;
            metrics.RecordCheckpointsInProgress(cuts.Count);

            // Flink's "Triggering checkpoint": operators and the drill see when one is under way.
            log.Info("Checkpoint {0} triggered: partition(s) {1}, {2} changed user(s)", epoch, string.Join(",", cuts.Select(c => c.Cut.Partition)), cuts.Sum(c => c.Cut.Expected.Count));
        }

        return new Barrier(epoch, started, cuts, run.Gate);
    }

    /// <summary>
    /// The final checkpoint of revoked partitions: those that moved are cut now, and the partitions
    /// stop being woken by the clock (their next owner wakes their users from this checkpoint).
    /// It commits behind any checkpoint already under way, whatever the interval and min-pause.
    /// </summary>
    private Barrier CutRevoked(RunState run, Revocation revocation)
    {
        var epoch = Interlocked.Increment(ref _epoch);
        var started = DateTimeOffset.UtcNow;
        var partitions = revocation.Emitted.Select(p => p.Partition.Value).ToList();
        var cuts = partitions.Where(run.Tracker.Partitions.Contains).ToList().Select(p => CutPartition(run, epoch, p)).ToList();
        foreach (var partition in partitions)
        {
            run.Clocks.Remove(partition);
        }

        log.Info("Checkpoint {0} triggered for revoked partition(s) {1}: {2} changed user(s)", epoch, string.Join(",", partitions), cuts.Sum(c => c.Cut.Expected.Count));
        return new Barrier(epoch, started, cuts, Gate: null) { Revocation = revocation };
    }

    /// <summary>Sends partition <paramref name="partition"/>'s barrier to its dirty users now, behind their records.</summary>
    private PartitionCut CutPartition(RunState run, long epoch, int partition)
    {
        var cut = run.Tracker.Cut(epoch, partition);
        var replies = new BarrierReplies(((IInternalActorRef)users).Provider, cut.Expected.Count, checkpoints.Timeout);
        foreach (var user in cut.Expected.Keys)
        {
            users.Tell(new CheckpointBarrier(epoch, partition, user), replies);
        }

        var watermark = run.Clocks.TryGetValue(partition, out var clock) && clock.Given != long.MinValue ? clock.Given : (long?)null;
        return new PartitionCut(cut, replies.States, watermark);
    }

    private async Task CommitAsync(Barrier barrier, IKafkaSourceControl control, string topic)
    {
        foreach (var (cut, replies, watermark) in barrier.Cuts)
        {
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

            CheckpointWritten written;
            var writing = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                written = await journals.For(cut.Partition)
                    .Ask<CheckpointWritten>(new WriteCheckpoint(cut.Epoch, cut.NextOffset, outcome.States, watermark), checkpoints.Timeout)
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

            var completed = new CheckpointRecord(cut.Epoch, cut.Partition, barrier.Started, DateTimeOffset.UtcNow - barrier.Started, written.Users, written.Bytes, written.NextOffset, CheckpointStatus.Completed, null);
            await history.AddAsync(completed, LogHistoryFailure).ConfigureAwait(false);
            metrics.RecordCheckpoint(completed);
            control.StoreOffsets([new TopicPartitionOffset(topic, new Partition(cut.Partition), new Offset(cut.NextOffset))]);
            metrics.Partitions.Committed(cut.Partition, cut.NextOffset);
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

    private void CheckpointEnded() => metrics.RecordCheckpointsInProgress(0);

    private void LogHistoryFailure(Exception e) => log.Warning("Checkpoint history not written: {0}", Storage.DatabaseError.Describe(e));

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }

    /// <summary>
    /// Checkpoints commit in stream order, one after another, but behind the stream, not in it:
    /// records after a barrier go on while its users' states are written (Flink's asynchronous
    /// snapshot); the engine bench measures what holding the stream for the write would cost. At
    /// most one commit waits behind the one running; a failed commit fails the stream at once
    /// (through <paramref name="abort"/>), so the rewind starts without waiting for the records
    /// in flight, some of which may wait for a journal that is restarting.
    /// </summary>
    private sealed class CommitChain(TransactionPipeline pipeline, IKafkaSourceControl control, string topic, SharedKillSwitch abort)
    {
        private static readonly Task<NotUsed> Done = Task.FromResult(NotUsed.Instance);
        private Task _running = Task.CompletedTask;
        private Task _waiting = Task.CompletedTask;

        /// <summary>Called by the stream, in order: queues a step's commit; returns at once unless two are already queued.</summary>
        public Task<NotUsed> Enqueue(Step step)
        {
            if (_running.IsFaulted)
            {
                return Fail(_running);
            }

            if (!step.Commits)
            {
                return Done;
            }

            var previous = _running;
            _running = CommitAfterAsync(previous, step);
            var backlog = _waiting;
            _waiting = previous;
            return backlog.IsCompleted ? Done : ThenDone(backlog);
        }

        /// <summary>The run's end: the stream's, then every queued commit's (the stream's failure first).</summary>
        public async Task AfterAsync(Task streamed)
        {
            try
            {
                await streamed.ConfigureAwait(false);
            }
            catch
            {
                await _running.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                throw;
            }

            await _running.ConfigureAwait(false);
        }

        private static async Task<NotUsed> ThenDone(Task task)
        {
            await task.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            return NotUsed.Instance;
        }

        private static async Task<NotUsed> Fail(Task failed)
        {
            await failed.ConfigureAwait(false);
            return NotUsed.Instance;
        }

        private async Task CommitAfterAsync(Task previous, Step step)
        {
            try
            {
                await previous.ConfigureAwait(false);
                await step.CommitAsync(pipeline, control, topic).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                abort.Abort(e);
                throw;
            }
        }
    }

    /// <summary>What the ordered stream hands to the commit stage.</summary>
    private abstract record Step
    {
        public static Step Nothing { get; } = new NothingToCommit();

        /// <summary>Whether the step has a checkpoint to commit (records' steps have none).</summary>
        public virtual bool Commits => true;

        public abstract Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic);
    }

    private sealed record NothingToCommit : Step
    {
        public override bool Commits => false;

        public override Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic) => Task.FromResult(NotUsed.Instance);
    }

    /// <summary>Several steps of one stream element, committed in order.</summary>
    private sealed record Steps(IReadOnlyList<Step> All) : Step
    {
        public override bool Commits => All.Any(s => s.Commits);

        public override async Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic)
        {
            foreach (var step in All)
            {
                await step.CommitAsync(pipeline, control, topic).ConfigureAwait(false);
            }

            return NotUsed.Instance;
        }
    }

    /// <summary>One partition's part of a barrier: its cut, its users' replies, its watermark at the cut.</summary>
    private sealed record PartitionCut(BarrierCut Cut, Task<UserCheckpointState[]> Replies, long? WatermarkMs);

    /// <param name="Gate">The periodic checkpoints' gate; null for a revocation's checkpoint, which never waits for it.</param>
    private sealed record Barrier(long Epoch, DateTimeOffset Started, List<PartitionCut> Cuts, CheckpointGate? Gate) : Step
    {
        /// <summary>The revocation this barrier is the final checkpoint of, told when it commits or fails.</summary>
        public Revocation? Revocation { get; init; }

        public override async Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic)
        {
            try
            {
                await pipeline.CommitAsync(this, control, topic).ConfigureAwait(false);
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
                    pipeline.CheckpointEnded();
                }
            }

            return NotUsed.Instance;
        }
    }

    /// <summary>
    /// Partitions the group takes away, with the offset after the last record the source emitted
    /// of each: their final checkpoint waits until those records are handled.
    /// </summary>
    private sealed record Revocation(IReadOnlyList<TopicPartitionOffset> Emitted) : SourceEvent
    {
        public TaskCompletionSource<IReadOnlyList<TopicPartitionOffset>> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// What one run of the stream keeps: barrier bookkeeping, the checkpoint gate, each
    /// partition's clock, and the checkpoints recovered on assignment until the stream takes them.
    /// </summary>
    private sealed class RunState(long generation)
    {
        public long Generation { get; } = generation;

        public CheckpointTracker Tracker { get; } = new();

        public CheckpointGate Gate { get; } = new();

        /// <summary>Touched only at the stream's turn.</summary>
        public Dictionary<int, PartitionClock> Clocks { get; } = [];

        public System.Collections.Concurrent.ConcurrentDictionary<int, PartitionCheckpoint> Recovered { get; } = new();

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

    /// <summary>Whether a checkpoint of this run is between its cut and its commit.</summary>
    private sealed class CheckpointGate
    {
        private volatile bool _inFlight;

        public bool InFlight
        {
            get => _inFlight;
            set => _inFlight = value;
        }
    }

    /// <summary>The stop's checkpoint and a revocation must not be lost to a full tick queue: they are offered until taken.</summary>
    private static async Task<bool> OfferUntilTakenAsync(ISourceQueueWithComplete<SourceEvent> ticks, SourceEvent e)
    {
        while (true)
        {
            switch (await ticks.OfferAsync(e).ConfigureAwait(false))
            {
                case QueueOfferResult.Dropped:
                    await Task.Delay(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
                    break;
                case QueueOfferResult.Enqueued:
                    return true;
                default:
                    return false;
            }
        }
    }
}

/// <summary>Time to look at the partitions' clocks: idle watermarks, processing time, late wake-ups.</summary>
public sealed record ClockTick : SourceEvent
{
    public static ClockTick Instance { get; } = new();
}

/// <summary>Time for a checkpoint: merged into the record stream, it becomes the barrier.</summary>
public sealed record CheckpointTick : SourceEvent
{
    /// <summary>The interval's tick: skipped while a checkpoint is under way or within min-pause of the last one.</summary>
    public static CheckpointTick Periodic { get; } = new();

    /// <summary>The stop's tick (stop-with-savepoint): always cuts.</summary>
    public static CheckpointTick Final { get; } = new() { IsFinal = true };

    public bool IsFinal { get; private init; }
}
