using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Rules;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// The path of a record: Kafka source → parse and validate → the user's actor (or the DLQ) →
/// its alerts and window results into the run's outputs, written in batches behind the stream.
/// Checkpoint barriers enter the same ordered stream (docs/design.md, "The checkpoint
/// protocol"): at a barrier every dirty user of a partition answers with its state as of the
/// barrier, the outputs of the records before it are written, the partition journal persists
/// the states and then the commit event with the offset, and only then is the offset stored for
/// the consumer group.
/// </summary>
public sealed class TransactionPipeline
{
    private readonly IActorRef _users;
    private readonly PipelineSettings _settings;
    private readonly CheckpointSettings _checkpoints;
    private readonly PipelineMetrics _metrics;
    private readonly PipelineTime _time;
    private readonly CheckpointCoordinator _coordinator;
    private readonly PartitionLifecycle _partitions;
    private readonly RecordDispatch _dispatch;
    private readonly IOutputSink<Alert> _alerts;
    private readonly RulesBoard? _rules;

    public TransactionPipeline(
        IActorRef users,
        IPartitionJournals journals,
        TransactionParser parser,
        IOutputSink<Alert> alerts,
        DeadLetterPublisher deadLetters,
        PipelineSettings settings,
        CheckpointSettings checkpoints,
        CheckpointHistory history,
        PipelineMetrics metrics,
        ILoggingAdapter log,
        PipelineTime? time = null,
        RulesBoard? rules = null)
    {
        _rules = rules;
        _users = users;
        _settings = settings;
        _checkpoints = checkpoints;
        _metrics = metrics;
        _time = time ?? PipelineTime.Default;
        var delivery = new UserDelivery(users);
        _coordinator = new CheckpointCoordinator(delivery, journals, checkpoints, history, metrics, log);
        var clocks = new EventTimeDriver(delivery, settings, metrics, _time);
        _partitions = new PartitionLifecycle(journals, delivery, checkpoints, metrics, log, _time, clocks, _coordinator);
        _alerts = alerts;
        _dispatch = new RecordDispatch(delivery, parser, deadLetters, settings, metrics, log, _time, clocks, _partitions, _coordinator);
    }

    public PipelineMetrics Metrics => _metrics;

    /// <summary>
    /// Runs the stream. <paramref name="generation"/> names the run: users seeing another one
    /// reload their last checkpointed state, so a restarted stream rewinds state and offsets together.
    /// </summary>
    public PipelineRun Run(KafkaSourceSettings source, IMaterializer materializer, long generation)
    {
        var run = new RunState(generation) { Board = _rules };
        var (ticks, barriers) = Source.Queue<SourceEvent>(4, OverflowStrategy.DropNew).PreMaterialize(materializer);

        // The source runs in an actor of its own (pre-materialized), so it can wait in a
        // revocation for the rest of the stream to checkpoint the revoked partitions.
        var (control, records) = Source.FromGraph(new KafkaSourceStage(source with
        {
            StartOffset = async partition =>
            {
                // Before the partition is assigned and its assignment enters the stream.
                var checkpoint = await _partitions.RecoverAsync(partition).ConfigureAwait(false);
                await _partitions.RulesFromAsync(partition, checkpoint, run).ConfigureAwait(false);
                run.Recovered[partition.Partition.Value] = checkpoint;
                return checkpoint.NextOffset;
            },
            Revoking = emitted => _partitions.RevokeAsync(emitted, run, ticks),
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
        return Run(new RunState(generation) { Board = _rules }, records, control, topic, ticks, barriers, materializer);
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
        var timer = new Timer(_ => ticks.OfferAsync(CheckpointTick.Periodic), null, _checkpoints.Interval, _checkpoints.Interval);

        // A change of the rules is cut soon, not at the next interval: its alerts wait for that commit.
        Action rulesChanged = run.RulesChanged;
        if (_rules is not null)
        {
            _rules.Changed += rulesChanged;
        }

        var clockTicks = Source.Tick(_time.Settings.TickInterval, _time.Settings.TickInterval, (SourceEvent)ClockTick.Instance).MapMaterializedValue(_ => NotUsed.Instance);
        var replies = new UserReplies(((IInternalActorRef)_users).Provider);
        _metrics.RecordRunStarted(run.Generation);
        var abort = KillSwitches.Shared("pipeline-" + run.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var commits = new CommitChain(_coordinator, control, topic, abort);
        run.Outputs = new OutputWriter(_alerts, _time.Windows, _metrics, abort.Abort);
        var streamed = records
            .Merge(barriers, eagerComplete: true)
            .Merge(clockTicks, eagerComplete: true)
            .Via(abort.Flow<SourceEvent>())
            .Batch(_settings.GroupSize, e => new List<SourceEvent> { e }, (events, e) =>
            {
                events.Add(e);
                return events;
            })
            .SelectAsync(_settings.GroupsInFlight, events => _dispatch.Handle(events, run, replies))
            .SelectAsync(1, commits.Enqueue)
            .RunWith(Sink.Ignore<NotUsed>(), materializer);
        var completion = FinishAsync(commits.AfterAsync(streamed), run.Outputs);
        completion.ContinueWith(
            _ =>
            {
                timer.Dispose();
                if (_rules is not null)
                {
                    _rules.Changed -= rulesChanged;
                }

                replies.Dispose();
                run.AbandonRevocations();
            },
            TaskScheduler.Default);
        return new PipelineRun(control, () => OfferUntilTakenAsync(ticks, CheckpointTick.Final), completion);
    }

    /// <summary>
    /// The run's end: its commits', then, when the stream ended well, its last outputs' (a
    /// stream whose source completed has no barrier after its last records to wait for them).
    /// A failed run leaves them: the rewind raises them again.
    /// </summary>
    private static async Task FinishAsync(Task committed, OutputWriter outputs)
    {
        await committed.ConfigureAwait(false);
        await outputs.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>The stop's checkpoint and a revocation must not be lost to a full tick queue: they are offered until taken.</summary>
    internal static async Task<bool> OfferUntilTakenAsync(ISourceQueueWithComplete<SourceEvent> ticks, SourceEvent e)
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
