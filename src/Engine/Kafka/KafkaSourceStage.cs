using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <summary>
/// An Akka.Streams source over a Confluent.Kafka consumer. Every consumer call happens on the
/// stage's own turn (pull, timer or async callback), so the consumer is never shared between
/// threads. It reads only on demand — the consumer's own bounded prefetch and one held record are
/// the only buffers — and commits only offsets that downstream stored as handled.
/// </summary>
public sealed class KafkaSourceStage(KafkaSourceSettings settings)
    : GraphStageWithMaterializedValue<SourceShape<SourceEvent>, IKafkaSourceControl>
{
    private readonly Outlet<SourceEvent> _out = new("KafkaSource.out");
    private readonly KafkaSourceSettings _settings = settings;

    public override SourceShape<SourceEvent> Shape => new(_out);

    public override ILogicAndMaterializedValue<IKafkaSourceControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var logic = new Logic(this);
        return new LogicAndMaterializedValue<IKafkaSourceControl>(logic, logic.Control);
    }

    private sealed class Logic : TimerGraphStageLogic, IGroupMemberReader
    {
        private const string PollTimer = "poll";
        private const string DrainTimer = "drain-timeout";
        private static readonly long MinRecordTimeMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
        private static readonly long MaxRecordTimeMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

        private readonly KafkaSourceStage _stage;
        private readonly Queue<SourceEvent> _partitionEvents = new();
        private readonly Dictionary<TopicPartition, long> _lastEmitted = new();
        private readonly Dictionary<TopicPartition, long> _nextStored = new();
        private readonly List<TopicPartitionOffset> _startsToStore = [];
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Action<(int, List<TopicPartition>, Task<long?[]>)> _prepared;
        private KafkaGroupMember? _member;
        private IConsumer<byte[]?, byte[]>? _consumer;
        private ConsumeResult<byte[]?, byte[]>? _held;
        private bool _draining;

        /// <summary>Counts assignments and revocations: a preparation finishing after a newer one is dropped.</summary>
        private int _assignments;

        public Logic(KafkaSourceStage stage)
            : base(stage.Shape)
        {
            _stage = stage;
            Control = new SourceControl(
                GetAsyncCallback<IReadOnlyList<TopicPartitionOffset>>(Store),
                GetAsyncCallback(BeginDrain),
                GetAsyncCallback(CompleteStage),
                _completion.Task);
            _prepared = GetAsyncCallback<(int, List<TopicPartition>, Task<long?[]>)>(OnPrepared);
            SetHandler(stage._out, onPull: TryPush, onDownstreamFinish: _ => CompleteStage());
        }

        public SourceControl Control { get; }

        private KafkaSourceSettings Settings => _stage._settings;

        public override void PreStart()
        {
            var config = new ConsumerConfig(new Dictionary<string, string>(Settings.Consumer))
            {
                EnableAutoOffsetStore = false,
            };
            var log = Log;
            _member = Settings.Member ?? new KafkaGroupMember();
            var (consumer, joined) = _member.Attach(
                this,
                builder => builder
                    .SetErrorHandler((_, error) => log.Warning("Kafka consumer: {0} ({1})", error.Reason, error.Code))
                    .SetLogHandler((_, message) => LogClientMessage(log, message)),
                config,
                Settings.Topics);
            _consumer = consumer;
            if (!joined)
            {
                RewindInPlace();
            }
        }

        /// <summary>
        /// A new run of the stream over a consumer still in its group: the partitions it owns
        /// start again where their journals last committed, as after an assignment, but without
        /// a rebalance. Nothing is fetched from the previous run's positions meanwhile.
        /// </summary>
        private void RewindInPlace()
        {
            var owned = _member!.Owned.ToList();
            _consumer!.Unassign();
            if (owned.Count == 0)
            {
                return;
            }

            Log.Info("Kafka source: rewinding {0} in place, still a member of the group", string.Join(", ", owned));
            var assignNow = Prepare(owned).ToList();
            if (assignNow.Count > 0)
            {
                _consumer.Assign(assignNow);
            }
        }

        public override void PostStop()
        {
            if (_member is { } member)
            {
                if (Settings.Member is null)
                {
                    // The stage's own membership: closing commits the stored offsets and leaves the
                    // group at once, so the partitions move without waiting for a session timeout.
                    member.Close();
                }
                else
                {
                    // The ingest's membership outlives this run: the next one rewinds in place.
                    member.Detach(this);
                }
            }

            _completion.TrySetResult();
        }

        protected override void OnTimer(object timerKey)
        {
            switch (timerKey)
            {
                case PollTimer:
                    TryPush();
                    break;
                case DrainTimer:
                    Log.Warning("Kafka source: drain timed out with records in flight; they will be read again");
                    CompleteStage();
                    break;
            }
        }

        private void TryPush()
        {
            if (!IsAvailable(_stage._out))
            {
                return;
            }

            if (_partitionEvents.TryDequeue(out var change))
            {
                Push(_stage._out, change);
                return;
            }

            if (_held is { } held)
            {
                _held = null;
                Emit(held);
                return;
            }

            if (_draining)
            {
                return;
            }

            var result = Poll();
            if (_partitionEvents.TryDequeue(out change))
            {
                // The poll ran a rebalance: the change goes first, the record (if any) waits.
                _held = result is null || IsRevoked(result) ? null : result;
                Push(_stage._out, change);
            }
            else if (result is not null)
            {
                Emit(result);
            }
            else
            {
                ScheduleOnce(PollTimer, Settings.PollInterval);
            }
        }

        private ConsumeResult<byte[]?, byte[]>? Poll()
        {
            try
            {
                var result = _consumer!.Consume(TimeSpan.Zero);
                if (_startsToStore.Count > 0)
                {
                    Store([.. _startsToStore]);
                    _startsToStore.Clear();
                }

                return result;
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                Log.Warning("Kafka consumer: {0}", e.Error.Reason);
                return null;
            }
            catch (KafkaException e)
            {
                FailStage(e);
                return null;
            }
        }

        private void Emit(ConsumeResult<byte[]?, byte[]> result)
        {
            var record = new KafkaRecord(
                result.Topic,
                result.Partition.Value,
                result.Offset.Value,
                result.Message.Key,
                result.Message.Value ?? [],
                RecordTime(result.Message.Timestamp));
            _lastEmitted[record.TopicPartition] = record.Offset;
            Push(_stage._out, record);
        }

        /// <summary>
        /// A producer sets CreateTime to any long; one outside DateTimeOffset's range must not fail
        /// the stage (it would meet the same record after every restart). Clamped, it stays
        /// implausible to the parser's event-time check.
        /// </summary>
        private static DateTimeOffset RecordTime(Timestamp timestamp) =>
            DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(timestamp.UnixTimestampMs, MinRecordTimeMs, MaxRecordTimeMs));

        public IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
        {
            Log.Info("Kafka source: assigned {0}", string.Join(", ", partitions));
            return Prepare(partitions);
        }

        /// <summary>The partitions start where <see cref="KafkaSourceSettings.StartOffset"/> says, once it has said so for all; returns what to assign now.</summary>
        private IEnumerable<TopicPartitionOffset> Prepare(List<TopicPartition> partitions)
        {
            var version = ++_assignments;
            if (Settings.StartOffset is not { } startOffset)
            {
                _partitionEvents.Enqueue(new PartitionsAssigned(partitions));
                return partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset));
            }

            // Where each partition starts may take seconds; librdkafka sends no heartbeats while
            // this callback runs, so waiting here would cost the group membership. Nothing is
            // assigned yet: the partitions are, at their start offsets, once all are known.
            var starts = Task.WhenAll(partitions.Select(startOffset));
            starts.ContinueWith(t => _prepared((version, partitions, t)), TaskScheduler.Default);
            return [];
        }

        /// <summary>The start offsets of an assignment are known: the partitions are assigned there, unless a rebalance superseded them.</summary>
        private void OnPrepared((int Version, List<TopicPartition> Partitions, Task<long?[]> Starts) prepared)
        {
            if (prepared.Version != _assignments)
            {
                Log.Info("Kafka source: {0} taken away before they were ready", string.Join(", ", prepared.Partitions));
                return;
            }

            if (prepared.Starts.Exception is { } failed)
            {
                FailStage(failed.GetBaseException());
                return;
            }

            var starts = prepared.Partitions
                .Zip(prepared.Starts.Result, (p, next) => new TopicPartitionOffset(p, next is { } n ? new Offset(n) : Offset.Unset))
                .ToList();
            _consumer!.Assign(starts);

            // The group's offsets may lag the service's own (a crash before they were sent):
            // they are brought up to where reading starts once the assignment is in place.
            _startsToStore.AddRange(starts.Where(s => s.Offset != Offset.Unset));
            _partitionEvents.Enqueue(new PartitionsAssigned(prepared.Partitions));
            TryPush();
        }

        public void OnRevoked(List<TopicPartition> partitions, bool lost)
        {
            Log.Info("Kafka source: {0} {1}", lost ? "lost" : "revoked", string.Join(", ", partitions));
            _assignments++;
            if (!lost && Settings.Revoking is { } revoking)
            {
                CheckpointBeforeLettingGo(partitions, revoking);
            }

            foreach (var partition in partitions)
            {
                _lastEmitted.Remove(partition);
                _nextStored.Remove(partition);
            }

            if (_held is not null && partitions.Contains(_held.TopicPartition))
            {
                _held = null;
            }

            _partitionEvents.Enqueue(new PartitionsRevoked(partitions, lost));
        }

        /// <summary>
        /// Blocks this stage (only: the rest of the stream runs in its own actor) until the records
        /// emitted of the revoked partitions are checkpointed, then stores the checkpoint's offsets
        /// while the partitions are still ours. A failure or time-out lets them go anyway: their
        /// next owner resumes from the previous checkpoint and reads a little more again.
        /// </summary>
        private void CheckpointBeforeLettingGo(List<TopicPartition> partitions, Func<IReadOnlyList<TopicPartitionOffset>, Task<IReadOnlyList<TopicPartitionOffset>>> revoking)
        {
            var emitted = partitions
                .Select(p => new TopicPartitionOffset(p, _lastEmitted.TryGetValue(p, out var last) ? new Offset(last + 1) : Offset.Unset))
                .ToList();
            try
            {
                var checkpoint = revoking(emitted);
                if (!checkpoint.Wait(Settings.RevokeTimeout))
                {
                    Log.Warning("Kafka source: no checkpoint of revoked {0} within {1}; their next owner resumes from the one before", string.Join(", ", partitions), Settings.RevokeTimeout);
                    return;
                }

                foreach (var next in checkpoint.Result)
                {
                    _consumer!.StoreOffset(next);
                }
            }
            catch (Exception e) when (e is AggregateException or KafkaException)
            {
                Log.Warning("Kafka source: revoked {0} not checkpointed ({1}); their next owner resumes from the checkpoint before", string.Join(", ", partitions), e.GetBaseException().Message);
            }
        }

        private bool IsRevoked(ConsumeResult<byte[]?, byte[]> result) => !_consumer!.Assignment.Contains(result.TopicPartition);

        private void Store(IReadOnlyList<TopicPartitionOffset> nextOffsets)
        {
            foreach (var next in nextOffsets)
            {
                try
                {
                    _consumer!.StoreOffset(next);
                    _nextStored[next.TopicPartition] = next.Offset.Value;
                }
                catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
                {
                    // The partition was revoked while its record was in flight; its next owner reads it again.
                    Log.Debug("Kafka source: offset {0} not stored, partition no longer assigned", next);
                }
            }

            if (_draining && Drained())
            {
                CompleteStage();
            }
        }

        private void BeginDrain()
        {
            _draining = true;
            _held = null;
            if (Drained())
            {
                CompleteStage();
            }
            else
            {
                ScheduleOnce(DrainTimer, Settings.DrainTimeout);
            }
        }

        private bool Drained() =>
            _lastEmitted.All(e => _nextStored.TryGetValue(e.Key, out var next) && next > e.Value);

        /// <summary>
        /// A group commit refused because a rebalance is under way: expected when partitions are
        /// revoked, and harmless — the partition journal holds the offsets, and the partition's
        /// next owner brings the group's committed offset up to date.
        /// </summary>
        private static bool IsRebalanceCommit(Confluent.Kafka.LogMessage message) =>
            message.Facility == "COMMITFAIL" && message.Message.Contains("rebalance in progress", StringComparison.OrdinalIgnoreCase);

        private static void LogClientMessage(ILoggingAdapter log, Confluent.Kafka.LogMessage message)
        {
            if (message.Level <= SyslogLevel.Warning && !IsRebalanceCommit(message))
            {
                log.Warning("librdkafka {0}: {1}", message.Facility, message.Message);
            }
            else
            {
                log.Debug("librdkafka {0}: {1}", message.Facility, message.Message);
            }
        }
    }

    private sealed class SourceControl(
        Action<IReadOnlyList<TopicPartitionOffset>> store,
        Action drain,
        Action stopNow,
        Task completion) : IKafkaSourceControl
    {
        public Task Completion => completion;

        public void StoreOffsets(IReadOnlyList<TopicPartitionOffset> nextOffsets) => store(nextOffsets);

        public async Task DrainAndStopAsync()
        {
            drain();
            await completion.ConfigureAwait(false);
        }

        public async Task StopNowAsync()
        {
            stopNow();
            await completion.ConfigureAwait(false);
        }
    }
}
