using FraudActors.Engine.Kafka;
using FraudActors.Engine.Time;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// The ordered stream's elements to where they go: records to their users (or the dead
/// letters) and the users' replies to the run's outputs; clock ticks, checkpoint ticks and
/// partition events to the pieces that own them.
/// </summary>
internal sealed class RecordDispatch(
    UserDelivery users,
    TransactionParser parser,
    DeadLetterPublisher deadLetters,
    PipelineSettings settings,
    PipelineMetrics metrics,
    ILoggingAdapter log,
    PipelineTime time,
    EventTimeDriver clocks,
    PartitionLifecycle partitions,
    CheckpointCoordinator coordinator)
{
    private int _firstRecordLogged;

    /// <summary>
    /// Runs on the stream's turn, in order: records' messages and barriers' messages leave in
    /// stream order. Consecutive records form one group, told to their users at once and
    /// answered into <paramref name="replies"/>; the returned step completes when every part has.
    /// </summary>
    public Task<Step> Handle(List<SourceEvent> events, RunState run, UserReplies replies)
    {
        var steps = new List<Task<Step>>(1);
        RecordGroup? group = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is KafkaRecord record)
            {
                if (group is null)
                {
                    group = new RecordGroup(events.Skip(i).TakeWhile(e => e is KafkaRecord).Count(), run.Generation);
                    metrics.RecordIn(group.Replies.Length);
                }

                Send(record, run, replies, group);
            }
            else
            {
                Flush(ref group);
                steps.Add(HandleEvent(events[i], run));
            }

            if (run.Revocations.Count > 0 && partitions.ReadyRevocations(run) is { Count: > 0 } barriers)
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
                steps.Add(CompleteAsync(sent, run, replies));
                sent = null;
            }
        }

        static async Task<Step> AllAsync(List<Task<Step>> all) => new Steps(await Task.WhenAll(all).ConfigureAwait(false));
    }

    private Task<Step> HandleEvent(SourceEvent e, RunState run)
    {
        switch (e)
        {
            case ClockTick when run.Board is not null && run.TakeRulesCheckpointWanted():
                // The rules' checkpoint, at the stream's turn (one at a time: asked again while one is under way).
                var cut = coordinator.Trigger(CheckpointTick.RulesChanged, run);
                if (cut is not Barrier)
                {
                    run.RulesChanged();
                }

                return AfterAsync(cut, clocks.TickAsync(run));
            case ClockTick:
                return clocks.TickAsync(run);
            case CheckpointTick tick:
                return Task.FromResult(coordinator.Trigger(tick, run));
            case PartitionsAssigned assigned:
                return partitions.AssignAsync(assigned, run);
            case Revocation revocation:
                partitions.Revoking(revocation, run);
                return Task.FromResult<Step>(Step.Nothing);
            case PartitionsRevoked revoked:
                partitions.Revoked(revoked, run);
                return Task.FromResult<Step>(Step.Nothing);
            default:
                return Task.FromResult<Step>(Step.Nothing);
        }
    }

    private static async Task<Step> AfterAsync(Step first, Task<Step> then) => new Steps([first, await then.ConfigureAwait(false)]);

    /// <summary>At the stream's turn: parses the record, moves its partition's clock and tells its user (or the dead letters).</summary>
    private void Send(KafkaRecord record, RunState run, UserReplies replies, RecordGroup group)
    {
        var tracker = run.Tracker;
        // How far ahead of its record an event time may be matters only where event time drives the clock.
        var recordTimestampMs = time.Settings.Characteristic == TimeCharacteristic.EventTime ? record.Timestamp.ToUnixTimeMilliseconds() : (long?)null;
        var outcome = parser.Parse(record.Key, record.Key is not null, record.Value, recordTimestampMs);
        if (!outcome.IsValid)
        {
            tracker.Skipped(record.Partition, record.Offset);
            metrics.Partitions.Skipped(record.Partition, record.Offset);
            group.Sent.Add(new RecordSent(record, null, null));
            group.Started.Add(DeadLetterAsync(record, outcome));
            return;
        }

        if (run.Board is not null && run.Rules.TryGetValue(record.Partition, out var rules))
        {
            StampRules(run, record, rules);
        }

        // The partition's clock, in stream order: the same records give the same watermarks on replay.
        var tx = outcome.Transaction!;
        var clock = run.ClockFor(record.Partition);
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var watermark = clock.Watermark;
        var sequence = replies.Expect(group, group.Sent.Count);
        var previous = tracker.Sent(record.Partition, tx.UserId, record.Offset);
        var command = RecordClock.Stamp(
            new ApplyTransaction(record.Partition, record.Offset, tx, run.Generation) { Sequence = sequence, PreviousOffset = previous, Rules = run.RulesFor(record.Partition) },
            ref watermark,
            nowMs,
            time.Settings);
        clock.Watermark = watermark;
        clock.Advance(command.WatermarkMs);
        metrics.Partitions.Read(record.Partition, command.UserId, record.Offset, clock.Given);
        group.Sent.Add(new RecordSent(record, command, clock));
        users.For(run, record.Partition).Tell(command, replies);
        if (clocks.WakeAsync(run, record.Partition, clock, nowMs) is { IsCompletedSuccessfully: false } woken)
        {
            group.Started.Add(woken);
        }

        if (command.Late)
        {
            // The late side output: counted always, and on its topic when one is configured.
            metrics.RecordLate();
            if (time.Late is { } lateOutput)
            {
                group.Started.Add(lateOutput.PublishAsync(record, RejectReason.Late, $"event time {tx.Timestamp:O} is behind the partition's watermark by more than the allowed lateness ({time.Settings.Watermarks.AllowedLateness})", CancellationToken.None));
            }
        }
    }

    /// <summary>
    /// Before a record is stamped with its partition's rules: a change that waited for this
    /// offset after a restart takes effect here, and a partition whose rules wait to be recorded
    /// asks for a checkpoint at its first record (docs/design.md, "Dynamic rules").
    /// </summary>
    private void StampRules(RunState run, KafkaRecord record, PartitionRules rules)
    {
        if (rules.Waiting && record.Offset >= rules.NotBefore)
        {
            rules.Waiting = false;
            if (run.AdoptRules(record.Partition, rules, record.Offset))
            {
                log.Info("Partition {0}: rules take effect from offset {1}: {2}", record.Partition, record.Offset, PartitionLifecycle.Describe(rules.InForce, record.Offset));
                run.RulesChanged();
            }
        }

        if (!rules.Started)
        {
            rules.Started = true;
            if (!rules.IsRecorded)
            {
                run.RulesChanged();
            }
        }
    }

    private async Task DeadLetterAsync(KafkaRecord record, ParseOutcome outcome)
    {
        await deadLetters.PublishAsync(record, outcome.Reason, outcome.Detail, CancellationToken.None).ConfigureAwait(false);
        metrics.RecordDeadLettered();
    }

    /// <summary>
    /// Once every user of the group has answered: their timers indexed, their alerts and window
    /// results handed to the run's outputs in record order (written behind the stream; a barrier
    /// waits for them), the failed ones dead-lettered. A record applied quietly
    /// (<see cref="RecordGroup.AppliedQuietly"/>) has nothing to index or publish.
    /// </summary>
    private async Task<Step> CompleteAsync(RecordGroup group, RunState run, UserReplies replies)
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
        var (applies, duplicates, first) = (0, 0, -1);
        for (var i = 0; i < group.Sent.Count; i++)
        {
            if (group.Replies[i] is not { } applied)
            {
                continue;
            }

            if (ReferenceEquals(applied, RecordGroup.AppliedQuietly))
            {
                applies++;
                first = first < 0 ? i : first;
                continue;
            }

            var (record, command, clock) = group.Sent[i];
            if (applied.Lost is { } lost)
            {
                // A record sent before this one never reached its user: the partition rewinds.
                throw new CheckpointFailedException($"user {applied.UserId}, partition {applied.Partition}: {lost}");
            }

            clock!.WakeBy(applied.UserId, applied.NextTimerMs);
            if (applied.ProcessingError is { } error)
            {
                // One record's failure is that record's: it goes to the dead letters, the stream goes on.
                group.Started.Add(DeadLetterAsync(record, ParseOutcome.Reject(RejectReason.ProcessingError, error)));
                continue;
            }

            if (applied.Duplicate)
            {
                duplicates++;
            }
            else
            {
                applies++;
                first = first < 0 ? i : first;
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

        metrics.RecordApplied(applies, duplicates, group.Generation);
        if (first >= 0 && Interlocked.Exchange(ref _firstRecordLogged, 1) == 0)
        {
            // The recovery figure operators watch: how long from start until records flow again.
            var sinceStart = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
            log.Info("First record processed: partition {0}, offset {1}, {2:0} ms after the process started", group.Sent[first].Record.Partition, group.Sent[first].Record.Offset, sinceStart.TotalMilliseconds);
        }

        run.Outputs.Add(raised, closed);
        await Task.WhenAll(group.Started).ConfigureAwait(false);
        return Step.Nothing;
    }
}
