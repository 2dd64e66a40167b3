using System.Collections.Concurrent;
using System.Globalization;
using Akka.Persistence;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints;

/// <param name="MaxChunkBytes">Upper bound of one chunk event's user states, so no journal row grows without limit.</param>
/// <param name="SnapshotEvery">
/// Commits between compactions: the whole partition state rewritten as chunks (a full snapshot
/// that no single row has to hold), after which the events before it are deleted.
/// </param>
public sealed record PartitionJournalSettings(int MaxChunkBytes = 256 * 1024, int SnapshotEvery = 10);

/// <summary>
/// The partition journal of docs/design.md, section 4: one persistent actor per Kafka partition
/// (<c>partition-&lt;topic&gt;-&lt;p&gt;</c>) whose events are checkpoints — chunks of changed
/// users' states, then a commit event with the partition offset. Only the commit makes a
/// checkpoint real, so the offsets and the state they reflect are durable together. Every
/// <see cref="PartitionJournalSettings.SnapshotEvery"/> commits the journal compacts itself:
/// the whole state as chunks, a <see cref="CheckpointCompacted"/> event, older events deleted.
/// Recovery reads the last compaction plus a few deltas, not one query per user.
/// </summary>
public sealed class PartitionJournal : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan DeleteRetry = TimeSpan.FromSeconds(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PartitionJournalSettings _settings;
    private readonly PartitionJournalState _state = new();

    /// <summary>States of users that stopped since the last commit; the next checkpoint persists them.</summary>
    private readonly ConcurrentDictionary<string, byte[]> _handedOver = new(StringComparer.Ordinal);

    /// <summary>What this node's users read at start instead of asking (registered once recovered).</summary>
    private readonly JournalView _view;
    private readonly string _topic;
    private readonly int _partition;
    private int _commitsSinceSnapshot;

    /// <summary>Events up to here are covered by a compaction and may go; 0 when none are waiting.</summary>
    private long _deleteTo;

    /// <summary>Who asked for each write under way: told at once if the database fails it.</summary>
    private readonly List<IActorRef> _writing = [];

    public PartitionJournal(string topic, int partition, PartitionJournalSettings settings)
    {
        PersistenceId = PersistenceIdFor(topic, partition);
        (_topic, _partition) = (topic, partition);
        _settings = settings;
        _view = new JournalView(_state.Users, _handedOver);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot)
            {
                _state.Apply(snapshot);
            }
        });
        Recover<CheckpointChunk>(_state.Apply);
        Recover<CheckpointCommitted>(commit =>
        {
            _state.Apply(commit);
            _commitsSinceSnapshot++;
        });
        Recover<CheckpointCompacted>(compacted =>
        {
            _state.Apply(compacted);
            _commitsSinceSnapshot = 0;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state.PendingChunks > 0)
            {
                _log.Warning("{0}: {1} chunk(s) of an uncommitted checkpoint ignored", PersistenceId, _state.PendingChunks);
            }

            _state.DropUncommitted();
            LocalJournalViews.For(Context.System).Register(_topic, _partition, _view);
            _log.Info("{0}: recovered epoch {1}, next offset {2}, watermark {3}, {4} users", PersistenceId, _state.Epoch, _state.NextOffset?.ToString(CultureInfo.InvariantCulture) ?? "none", _state.WatermarkMs?.ToString(CultureInfo.InvariantCulture) ?? "none", _state.Users.Count);
        });

        Command<WriteCheckpoint>(Write);
        Command<LoadUser>(load => Sender.Tell(new UserLoaded(load.UserId, _handedOver.GetValueOrDefault(load.UserId) ?? _state.Users.GetValueOrDefault(load.UserId), load.Load)));
        Command<HandOverUser>(handOver =>
        {
            _handedOver[handOver.UserId] = handOver.State;
            Sender.Tell(new UserHandedOver(handOver.UserId));
        });
        // A checkpoint's write does not hold the journal up: users starting meanwhile load their
        // state (they are not in the write: its users are resident, or handed over, and the
        // hand-over is answered first). What depends on where the partition stands waits for the
        // writes under way (DeferAsync runs after them, in order).
        Command<RewindPartition>(_ => AfterWrites(replyTo =>
        {
            _handedOver.Clear();
            replyTo.Tell(Checkpoint());
        }));
        Command<StopJournal>(_ => AfterWrites(_ => Context.Stop(Self)));
        Command<ReplacePartition>(replace => AfterWrites(replyTo => Replace(replace, replyTo)));
        Command<GetCommittedUsers>(_ => AfterWrites(replyTo => replyTo.Tell(new CommittedUsers(_state.Epoch, _state.NextOffset, _state.AllUsers(), _state.WatermarkMs))));
        Command<GetPartitionCheckpoint>(_ => AfterWrites(replyTo => replyTo.Tell(Checkpoint())));
        Command<DeleteMessagesSuccess>(deleted =>
        {
            if (deleted.ToSequenceNr >= _deleteTo)
            {
                _deleteTo = 0;
            }
        });
        Command<DeleteMessagesFailure>(failed =>
        {
            // A delete can lose a race with the writes that follow it; the events are only
            // superseded, never wrong, so it is simply tried again.
            _log.Warning("{0}: old events not deleted ({1}); retrying in {2}", PersistenceId, failed.Cause.Message, DeleteRetry);
            Timers.StartSingleTimer(nameof(RetryDelete), RetryDelete.Instance, DeleteRetry);
        });
        Command<RetryDelete>(_ =>
        {
            if (_deleteTo > 0)
            {
                DeleteMessages(_deleteTo);
            }
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning("{0}: old snapshots not deleted: {1}", PersistenceId, failed.Cause.Message));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"partition-{topic}-{partition}");

    public static Props PropsFor(string topic, int partition, PartitionJournalSettings settings) =>
        Props.Create(() => new PartitionJournal(topic, partition, settings));

    /// <summary>Stopped or restarting: this node's users ask the journal (or its successor) again.</summary>
    protected override void PostStop()
    {
        LocalJournalViews.For(Context.System).Withdraw(_topic, _partition, _view);
        base.PostStop();
    }

    /// <summary>
    /// The database failed a write: the actor stops (Akka.Persistence's rule) and its back-off
    /// supervisor starts it again (<see cref="PartitionJournals.MinBackoff"/> doubling to
    /// <see cref="PartitionJournals.MaxBackoff"/>) until it recovers. The checkpoints under
    /// way fail now, with the reason, rather than at their timeout; the stream rewinds and retries.
    /// </summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        var why = DatabaseError.Describe(cause);
        DatabaseError.ClearPoolsAfter(cause);
        _log.Warning("{0}: checkpoint not written: {1}; the journal restarts after a back-off ({2}) and the checkpoint is retried", PersistenceId, why, PartitionJournals.DescribeBackoff());
        foreach (var replyTo in _writing)
        {
            replyTo.Tell(new Status.Failure(new InvalidOperationException($"{PersistenceId} could not write it: {why}", cause)));
        }

        _writing.Clear();
    }

    /// <summary>The database could not be read: the supervisor tries again after its back-off.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        DatabaseError.ClearPoolsAfter(reason);
        _log.Warning("{0}: cannot recover: {1}; retrying after a back-off ({2})", PersistenceId, DatabaseError.Describe(reason), PartitionJournals.DescribeBackoff());
    }

    /// <summary>Splits users into chunks of at most <paramref name="maxChunkBytes"/> of state (at least one user each).</summary>
    public static List<CheckpointChunk> Chunk(long epoch, IReadOnlyList<UserSnapshot> users, int maxChunkBytes)
    {
        var chunks = new List<CheckpointChunk>();
        var current = new List<UserSnapshot>();
        var bytes = 0L;
        foreach (var user in users)
        {
            var size = user.State.Length + (2 * user.UserId.Length) + 8;
            if (current.Count > 0 && bytes + size > maxChunkBytes)
            {
                chunks.Add(new CheckpointChunk(epoch, chunks.Count, current));
                current = [];
                bytes = 0;
            }

            current.Add(user);
            bytes += size;
        }

        if (current.Count > 0)
        {
            chunks.Add(new CheckpointChunk(epoch, chunks.Count, current));
        }

        return chunks;
    }

    /// <summary>Where the partition stands: its last commit, and whom to wake for timers (handed-over states included, as <see cref="LoadUser"/> answers).</summary>
    private PartitionCheckpoint Checkpoint() => new(_state.Epoch, _state.NextOffset, _state.Users.Count)
    {
        WatermarkMs = _state.WatermarkMs,
        Timers = _state.TimersDue(_handedOver),
    };

    /// <summary>Runs <paramref name="then"/> (with the asker) once every write under way has been handled.</summary>
    private void AfterWrites(Action<IActorRef> then)
    {
        var replyTo = Sender;
        DeferAsync(replyTo, then);
    }

    private void Write(WriteCheckpoint write)
    {
        var replyTo = Sender;
        var chunks = Chunk(write.Epoch, write.Users, _settings.MaxChunkBytes);
        var bytes = write.Users.Sum(u => (long)u.State.Length);
        var commit = new CheckpointCommitted(write.Epoch, write.NextOffset, write.Users.Count, bytes, write.WatermarkMs);
        _writing.Add(replyTo);
        if (chunks.Count > 0)
        {
            // (An empty PersistAllAsync leaves the PersistAsync after it unanswered.)
            PersistAllAsync(chunks, _state.Apply);
        }

        PersistAsync(commit, committed =>
        {
            _writing.Remove(replyTo);
            _state.Apply(committed);
            // A handed-over state is dropped once this very state is committed; a newer one
            // (handed over after the barrier) waits for the next checkpoint.
            foreach (var user in write.Users)
            {
                if (_handedOver.TryGetValue(user.UserId, out var handed) && handed.AsSpan().SequenceEqual(user.State))
                {
                    _handedOver.TryRemove(user.UserId, out _);
                }
            }

            replyTo.Tell(new CheckpointWritten(committed.Epoch, committed.NextOffset, committed.Users, committed.Bytes, chunks.Count, committed.WatermarkMs));
            if (++_commitsSinceSnapshot >= _settings.SnapshotEvery)
            {
                _commitsSinceSnapshot = 0;
                Compact();
            }
        });
    }

    /// <summary>
    /// Rewrites the committed state as chunks of the last committed epoch and closes them with
    /// <see cref="CheckpointCompacted"/>; only then are the events before the chunks deleted. A
    /// crash in between leaves chunks that recovery ignores and the old events still there.
    /// </summary>
    private void Compact()
    {
        var firstChunk = LastSequenceNr + 1;
        var users = _state.AllUsers();
        var chunks = Chunk(_state.Epoch, users, _settings.MaxChunkBytes);
        // Asynchronous like the checkpoint writes (a synchronous persist inside their handler
        // left the next write unanswered). Its pipeline writes one checkpoint at a time, after
        // the last one's reply: no other write is queued before these chunks.
        if (chunks.Count > 0)
        {
            PersistAllAsync(chunks, _ => { });
        }

        PersistAsync(new CheckpointCompacted(_state.Epoch, _state.NextOffset ?? 0, users.Count, chunks.Count, _state.WatermarkMs), compacted =>
        {
            _log.Debug("{0}: compacted at epoch {1}: {2} users in {3} chunks", PersistenceId, compacted.Epoch, compacted.Users, compacted.Chunks);
            _deleteTo = firstChunk - 1;
            DeleteMessages(_deleteTo);
            DeleteSnapshots(new SnapshotSelectionCriteria(_deleteTo));
        });
    }

    /// <summary>
    /// Writes <paramref name="replace"/>'s users as the whole state, the way a compaction does
    /// (chunks closed by <see cref="CheckpointCompacted"/>), then deletes the events before them.
    /// </summary>
    private void Replace(ReplacePartition replace, IActorRef replyTo)
    {
        var firstChunk = LastSequenceNr + 1;
        var chunks = Chunk(replace.Epoch, replace.Users, _settings.MaxChunkBytes);
        _writing.Add(replyTo);
        if (chunks.Count > 0)
        {
            PersistAllAsync(chunks, _state.Apply);
        }

        PersistAsync(new CheckpointCompacted(replace.Epoch, replace.NextOffset, replace.Users.Count, chunks.Count, replace.WatermarkMs), compacted =>
        {
            _writing.Remove(replyTo);
            _state.Apply(compacted);
            _handedOver.Clear();
            _commitsSinceSnapshot = 0;
            _deleteTo = firstChunk - 1;
            if (_deleteTo > 0)
            {
                DeleteMessages(_deleteTo);
                DeleteSnapshots(new SnapshotSelectionCriteria(_deleteTo));
            }

            replyTo.Tell(new PartitionReplaced(compacted.Epoch, compacted.NextOffset, compacted.Users));
        });
    }

    /// <summary>The journal's own timer: never leaves the node.</summary>
    private sealed record RetryDelete : INoSerializationVerificationNeeded
    {
        public static RetryDelete Instance { get; } = new();
    }
}
