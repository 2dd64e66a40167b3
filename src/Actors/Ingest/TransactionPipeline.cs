using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using FraudActors.Actors.Alerts;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Kafka;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Transactions;

namespace FraudActors.Actors.Ingest;

/// <param name="Parallelism">Records in flight at once: the bound that makes <c>Tell</c>-style sharding back-pressured.</param>
/// <param name="AskTimeout">How long a user actor may take to apply a record before the stream fails and restarts.</param>
public sealed record PipelineSettings(int Parallelism, TimeSpan AskTimeout)
{
    public static PipelineSettings Default { get; } = new(256, TimeSpan.FromSeconds(30));
}

/// <summary>A running pipeline: its Kafka source, a way to ask for a checkpoint now, and its completion.</summary>
public sealed record PipelineRun(IKafkaSourceControl Control, Func<Task> CheckpointNow, Task Completion);

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
    ILoggingAdapter log)
{
    private long _epoch;
    private int _firstRecordLogged;

    /// <summary>Where a partition starts: its journal's last commit (recovering the journal if needed).</summary>
    public long? CommittedOffset(TopicPartition partition)
    {
        var checkpoint = journals.For(partition.Partition.Value)
            .Ask<PartitionCheckpoint>(GetPartitionCheckpoint.Instance, checkpoints.Timeout)
            .GetAwaiter().GetResult();
        InterlockedMax(ref _epoch, checkpoint.Epoch);
        log.Info("Partition {0}: last checkpoint epoch {1}, resuming at offset {2}", partition, checkpoint.Epoch, checkpoint.NextOffset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(group offset)");
        return checkpoint.NextOffset;
    }

    /// <summary>
    /// Runs the stream. <paramref name="generation"/> counts the runs: users seeing a newer one
    /// reload their last checkpointed state, so a restarted stream rewinds state and offsets together.
    /// </summary>
    public PipelineRun Run(KafkaSourceSettings source, IMaterializer materializer, long generation)
    {
        var tracker = new CheckpointTracker();
        var (control, records) = Source.FromGraph(new KafkaSourceStage(source with { StartOffset = CommittedOffset }))
            .PreMaterialize(materializer);
        var (ticks, barriers) = Source.Queue<SourceEvent>(4, OverflowStrategy.DropNew).PreMaterialize(materializer);
        var gate = new CheckpointGate();
        var timer = new Timer(_ => ticks.OfferAsync(CheckpointTick.Periodic), null, checkpoints.Interval, checkpoints.Interval);
        var completion = records
            .Merge(barriers, eagerComplete: true)
            .SelectAsync(settings.Parallelism, e => Handle(e, tracker, gate, generation))
            .SelectAsync(1, step => step.CommitAsync(this, control, source.Topics[0]))
            .RunWith(Sink.Ignore<NotUsed>(), materializer);
        completion.ContinueWith(_ => timer.Dispose(), TaskScheduler.Default);
        return new PipelineRun(control, () => OfferFinalAsync(ticks), completion);
    }

    /// <summary>Runs on the stream's turn, in order: a record's message and a barrier's messages leave in stream order.</summary>
    private Task<Step> Handle(SourceEvent e, CheckpointTracker tracker, CheckpointGate gate, long generation)
    {
        switch (e)
        {
            case KafkaRecord record:
                return HandleRecordAsync(record, tracker, generation);
            case CheckpointTick { IsFinal: false } when gate.InFlight || DateTimeOffset.UtcNow - history.LastEnded < checkpoints.MinPause:
                // One checkpoint at a time (Flink's max-concurrent-checkpoints = 1), and min-pause
                // after it ends: the partitions keep moving and a later tick cuts them.
                return Task.FromResult<Step>(Step.Nothing);
            case CheckpointTick:
                return Task.FromResult<Step>(Cut(tracker, gate));
            case PartitionsAssigned assigned:
                log.Info("Partitions assigned: {0}", string.Join(", ", assigned.Partitions));
                return Task.FromResult<Step>(Step.Nothing);
            case PartitionsRevoked revoked:
                log.Info("Partitions {0}: {1}", revoked.Lost ? "lost" : "revoked", string.Join(", ", revoked.Partitions));
                foreach (var partition in revoked.Partitions)
                {
                    tracker.Forget(partition.Partition.Value);
                }

                return Task.FromResult<Step>(Step.Nothing);
            default:
                return Task.FromResult<Step>(Step.Nothing);
        }
    }

    private async Task<Step> HandleRecordAsync(KafkaRecord record, CheckpointTracker tracker, long generation)
    {
        metrics.RecordIn();
        var outcome = parser.Parse(record.Key, record.Key is not null, record.Value);
        if (!outcome.IsValid)
        {
            tracker.Skipped(record.Partition, record.Offset);
            await deadLetters.PublishAsync(record, outcome.Reason, outcome.Detail, CancellationToken.None).ConfigureAwait(false);
            metrics.RecordDeadLettered();
            return Step.Nothing;
        }

        var command = new ApplyTransaction(record.Partition, record.Offset, outcome.Transaction!, generation);
        tracker.Sent(record.Partition, command.UserId, record.Offset);
        var applied = await users.Ask<TransactionApplied>(command, settings.AskTimeout).ConfigureAwait(false);
        metrics.RecordApplied(applied.Duplicate);
        if (!applied.Duplicate && Interlocked.Exchange(ref _firstRecordLogged, 1) == 0)
        {
            // The recovery figure operators watch: how long from start until records flow again.
            var sinceStart = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
            log.Info("First record processed: partition {0}, offset {1}, {2:0} ms after the process started", record.Partition, record.Offset, sinceStart.TotalMilliseconds);
        }

        foreach (var alert in applied.Alerts)
        {
            await alerts.PublishAsync(alert, CancellationToken.None).ConfigureAwait(false);
            metrics.RecordAlert();
        }

        return Step.Nothing;
    }

    /// <summary>Cuts every partition that moved, sending the barrier to its dirty users now, behind their records.</summary>
    private Barrier Cut(CheckpointTracker tracker, CheckpointGate gate)
    {
        var epoch = Interlocked.Increment(ref _epoch);
        var started = DateTimeOffset.UtcNow;
        var cuts = tracker.Partitions.ToList().Select(p =>
        {
            var cut = tracker.Cut(epoch, p);
            var replies = cut.Expected.Keys
                .Select(user => users.Ask<UserCheckpointState>(new CheckpointBarrier(epoch, p, user), checkpoints.Timeout))
                .ToList();
            return (cut, Task.WhenAll(replies));
        }).ToList();
        if (cuts.Count > 0)
        {
            gate.InFlight = true;

            // Flink's "Triggering checkpoint": operators and the drill see when one is under way.
            log.Info("Checkpoint {0} triggered: partition(s) {1}, {2} changed user(s)", epoch, string.Join(",", cuts.Select(c => c.cut.Partition)), cuts.Sum(c => c.cut.Expected.Count));
        }

        return new Barrier(epoch, started, cuts, gate);
    }

    private async Task CommitAsync(Barrier barrier, IKafkaSourceControl control, string topic)
    {
        foreach (var (cut, replies) in barrier.Cuts)
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
            try
            {
                written = await journals.For(cut.Partition)
                    .Ask<CheckpointWritten>(new WriteCheckpoint(cut.Epoch, cut.NextOffset, outcome.States), checkpoints.Timeout)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                throw await FailAsync(barrier, cut, $"the partition journal did not commit within {checkpoints.Timeout}").ConfigureAwait(false);
            }

            await history.AddAsync(
                new CheckpointRecord(cut.Epoch, cut.Partition, barrier.Started, DateTimeOffset.UtcNow - barrier.Started, written.Users, written.Bytes, written.NextOffset, CheckpointStatus.Completed, null),
                LogHistoryFailure).ConfigureAwait(false);
            control.StoreOffsets([new TopicPartitionOffset(topic, new Partition(cut.Partition), new Offset(cut.NextOffset))]);
        }
    }

    private async Task<CheckpointFailedException> FailAsync(Barrier barrier, BarrierCut cut, string why)
    {
        await history.AddAsync(
            new CheckpointRecord(cut.Epoch, cut.Partition, barrier.Started, DateTimeOffset.UtcNow - barrier.Started, 0, 0, cut.NextOffset, CheckpointStatus.Failed, why),
            LogHistoryFailure).ConfigureAwait(false);
        log.Warning("Checkpoint {0} of partition {1} failed: {2}; rewinding to the last commit", cut.Epoch, cut.Partition, why);
        return new CheckpointFailedException($"checkpoint {cut.Epoch} of partition {cut.Partition}: {why}");
    }

    private void LogHistoryFailure(Exception e) => log.Warning("Checkpoint history not written: {0}", e.Message);

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }

    /// <summary>What the ordered stream hands to the commit stage.</summary>
    private abstract record Step
    {
        public static Step Nothing { get; } = new NothingToCommit();

        public abstract Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic);
    }

    private sealed record NothingToCommit : Step
    {
        public override Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic) => Task.FromResult(NotUsed.Instance);
    }

    private sealed record Barrier(long Epoch, DateTimeOffset Started, List<(BarrierCut Cut, Task<UserCheckpointState[]> Replies)> Cuts, CheckpointGate Gate) : Step
    {
        public override async Task<NotUsed> CommitAsync(TransactionPipeline pipeline, IKafkaSourceControl control, string topic)
        {
            try
            {
                await pipeline.CommitAsync(this, control, topic).ConfigureAwait(false);
            }
            finally
            {
                if (Cuts.Count > 0)
                {
                    Gate.InFlight = false;
                }
            }

            return NotUsed.Instance;
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

    /// <summary>The stop's checkpoint must not be lost to a full tick queue: it is offered until taken.</summary>
    private static async Task OfferFinalAsync(ISourceQueueWithComplete<SourceEvent> ticks)
    {
        while (await ticks.OfferAsync(CheckpointTick.Final).ConfigureAwait(false) is QueueOfferResult.Dropped)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
        }
    }
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
