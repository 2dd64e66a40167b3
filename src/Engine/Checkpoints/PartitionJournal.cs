using System.Collections.Concurrent;
using System.Globalization;
using Akka.Persistence;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints;

/// <param name="MaxChunkBytes">Upper bound of one chunk event's user states, so no journal row grows without limit.</param>
/// <param name="StoreEvery">
/// Commits between writes of the committed states to the state store, after which the events
/// they came from are deleted (docs/design.md, "State beyond memory"). 1: after every commit, so
/// memory holds the states of one checkpoint at most and recovery replays one or two.
/// </param>
public sealed record PartitionJournalSettings(int MaxChunkBytes = 256 * 1024, int StoreEvery = 1);

/// <summary>
/// The partition journal of docs/design.md, section 4: one persistent actor per Kafka partition
/// (<c>partition-&lt;topic&gt;-&lt;p&gt;</c>) whose events are checkpoints — chunks of changed
/// users' states, then a commit event with the partition offset. Only the commit makes a
/// checkpoint real, so the offsets and the state they reflect are durable together. The journal
/// is the write-ahead log of the users' state store (<see cref="UserStateStores"/>): once a
/// commit is durable, its states go to the store and its events are deleted, so recovery
/// replays a checkpoint or two and memory holds only those and the node's bounded cache.
/// </summary>
public sealed partial class PartitionJournal : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan DeleteRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StoreRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(60);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PartitionJournalSettings _settings;
    private readonly PartitionJournalState _state = new();
    private readonly UserStateStores _stores;

    /// <summary>States of users that stopped since the last commit; the next checkpoint persists them.</summary>
    private readonly ConcurrentDictionary<string, byte[]> _handedOver = new(StringComparer.Ordinal);

    /// <summary>Users waiting for a state only the store has, with whom to answer; read in batches, one at a time.</summary>
    private readonly Dictionary<string, List<(IActorRef ReplyTo, int Load)>> _waiting = new(StringComparer.Ordinal);

    /// <summary>What this node's users read at start instead of asking (registered once recovered).</summary>
    private readonly JournalView _view;
    private readonly string _topic;
    private readonly int _partition;
    private int _commitsSinceStore;
    private bool _storing;
    private bool _reading;

    /// <summary>Which users the store holds (null until a scan of it has ended, and for the memory store): who is certainly new.</summary>
    private volatile KnownUsers? _known;

    /// <summary>Users stored while a scan for <see cref="_known"/> runs: the filter it builds gets them too.</summary>
    private List<string>? _storedWhileScanning;

    /// <summary>Replacements waiting for the store to hold them, by their event's sequence number.</summary>
    private readonly List<(long Sequence, IActorRef ReplyTo, PartitionReplaced Reply)> _replacing = [];

    /// <summary>Events up to here are in the store and may go; 0 when none are waiting.</summary>
    private long _deleteTo;

    /// <summary>Who asked for each write under way: told at once if the database fails it.</summary>
    private readonly List<IActorRef> _writing = [];

    public PartitionJournal(string topic, int partition, PartitionJournalSettings settings)
    {
        PersistenceId = PersistenceIdFor(topic, partition);
        (_topic, _partition) = (topic, partition);
        _settings = settings;
        _stores = UserStateStores.For(Context.System);
        _view = new JournalView(PersistenceId, _state, _handedOver, _stores, () => _known);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot)
            {
                _state.Apply(snapshot, offer.Metadata.SequenceNr);
            }
        });
        Recover<CheckpointChunk>(_state.Apply);
        Recover<CheckpointCommitted>(commit => _state.Apply(commit, LastSequenceNr));
        Recover<CheckpointCompacted>(compacted => _state.Apply(compacted, LastSequenceNr));
        Recover<RecoveryCompleted>(_ => Recovered());

        Ready();
    }

    /// <summary>What the journal answers once recovered and its mark in the store read.</summary>
    private void Ready()
    {
        Command<WriteCheckpoint>(Write);
        Command<LoadUser>(Load);
        Command<UsersRead>(Read);
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
            ReplyCheckpoint(replyTo);
        }));
        Command<StopJournal>(_ => AfterWrites(_ => Context.Stop(Self)));
        Command<ReplacePartition>(replace => AfterWrites(replyTo => Replace(replace, replyTo)));
        Command<GetCommittedUsers>(_ => AfterWrites(ReplyCommittedUsers));
        Command<GetPartitionCheckpoint>(_ => AfterWrites(ReplyCheckpoint));
        Command<StateStored>(Stored);
        Command<StateNotStored>(failed =>
        {
            _storing = false;
            _log.Warning("{0}: committed states not yet in the state store ({1}); they stay in the journal and in memory, retrying in {2}", PersistenceId, DatabaseError.Describe(failed.Cause), StoreRetry);
            Timers.StartSingleTimer(nameof(RetryStore), RetryStore.Instance, StoreRetry);
        });
        Command<RetryStore>(_ => StoreCommitted());
        Command<UsersScanned>(scanned =>
        {
            _storedWhileScanning?.ForEach(scanned.Known.Add);
            _storedWhileScanning = null;
            _known = scanned.Known;
        });
        Command<UsersNotScanned>(failed =>
        {
            // Only slower: every user not in memory is read from the store.
            _storedWhileScanning = null;
            _log.Warning("{0}: could not list the store's users ({1}); starts of new users read the store", PersistenceId, DatabaseError.Describe(failed.Cause));
        });
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

    /// <summary>Stopped or restarting: this node's users ask the journal (or its successor) again, those waiting now.</summary>
    protected override void PostStop()
    {
        LocalJournalViews.For(Context.System).Withdraw(_topic, _partition, _view);
        FailWaiting(new JournalRestartingException($"{PersistenceId} stopped before it read the state"));
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

    /// <summary>
    /// Recovery replayed the events the store may lack: those it already holds (a crash came
    /// between its write and the delete) leave memory, and the rest go to it now.
    /// </summary>
    private void Recovered()
    {
        if (_state.PendingChunks > 0)
        {
            _log.Warning("{0}: {1} chunk(s) of an uncommitted checkpoint ignored", PersistenceId, _state.PendingChunks);
        }

        _state.DropUncommitted();

        // What this node's cache holds of the partition may be from before another node had it.
        _stores.Cache.RemoveJournal(PersistenceId);

        // One small read before anything is answered (the rest waits in the stash): which
        // replayed states the store already holds.
        _stores.Store.ReadMarkAsync(PersistenceId, CancellationToken.None).WaitAsync(StoreTimeout)
            .PipeTo(Self, success: mark => new MarkRead(mark), failure: cause => new MarkNotRead(cause));
        Become(() =>
        {
            Command<MarkRead>(read =>
            {
                _state.StoredUpTo(read.Mark);
                LocalJournalViews.For(Context.System).Register(_topic, _partition, _view);
                _log.Info("{0}: recovered epoch {1}, next offset {2}, watermark {3}, {4} users ({5} in memory)", PersistenceId, _state.Epoch, _state.NextOffset?.ToString(CultureInfo.InvariantCulture) ?? "none", _state.WatermarkMs?.ToString(CultureInfo.InvariantCulture) ?? "none", _state.Users, _state.Recent.Count);
                Become(Ready);
                Stash.UnstashAll();
                ScanKnownUsers(read.Mark.Users);
                StoreCommitted();
            });
            Command<MarkNotRead>(failed =>
            {
                // Like a recovery that could not read the journal: the supervisor starts it again after a back-off.
                _log.Warning("{0}: cannot read its mark in the state store: {1}; retrying after a back-off ({2})", PersistenceId, DatabaseError.Describe(failed.Cause), PartitionJournals.DescribeBackoff());
                Context.Stop(Self);
            });
            CommandAny(_ => Stash.Stash());
        });
    }

    /// <summary>Where the partition stands: its last commit, and whom to wake for timers (handed-over states included, as <see cref="LoadUser"/> answers).</summary>
    private void ReplyCheckpoint(IActorRef replyTo)
    {
        var (epoch, nextOffset, watermark, memory, rules) = (_state.Epoch, _state.NextOffset, _state.WatermarkMs, _state.Snapshot(), _state.Rules);
        var handedOver = new Dictionary<string, byte[]>(_handedOver, StringComparer.Ordinal);
        var recentUsers = memory.Recent.Keys.ToArray();
        ReplyWhenRead(
            async () =>
            {
                var stored = memory.StoreIsStale ? [] : await _stores.Store.TimersAsync(PersistenceId, CancellationToken.None).ConfigureAwait(false);
                var users = memory.StoreIsStale ? recentUsers.Length : await _stores.Store.CountWithAsync(PersistenceId, recentUsers, CancellationToken.None).ConfigureAwait(false);
                return new PartitionCheckpoint(epoch, nextOffset, (int)Math.Min(int.MaxValue, users)) { WatermarkMs = watermark, Timers = memory.TimersDue(stored, handedOver), Rules = rules };
            },
            replyTo);
    }

    /// <summary>Every user's committed state: the store's under those in memory.</summary>
    private void ReplyCommittedUsers(IActorRef replyTo)
    {
        var (epoch, nextOffset, watermark, memory) = (_state.Epoch, _state.NextOffset, _state.WatermarkMs, _state.Snapshot());
        ReplyWhenRead(
            async () =>
            {
                var stored = memory.StoreIsStale ? [] : await _stores.Store.AllAsync(PersistenceId, CancellationToken.None).ConfigureAwait(false);
                return new CommittedUsers(epoch, nextOffset, memory.AllUsers(stored), watermark);
            },
            replyTo);
    }

    /// <summary>Answers <paramref name="replyTo"/> once the store has been read, off the actor (the reader touches only what it captured).</summary>
    private static void ReplyWhenRead<T>(Func<Task<T>> read, IActorRef replyTo) => Task.Run(read).PipeTo(replyTo);

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
        // The rules in force stay in the last commit, which is the one event the journal keeps.
        var commit = new CheckpointCommitted(write.Epoch, write.NextOffset, write.Users.Count, bytes, write.WatermarkMs) { Rules = write.Rules ?? _state.Rules };
        _writing.Add(replyTo);
        if (chunks.Count > 0)
        {
            // (An empty PersistAllAsync leaves the PersistAsync after it unanswered.)
            PersistAllAsync(chunks, _state.Apply);
        }

        PersistAsync(commit, committed =>
        {
            _writing.Remove(replyTo);
            _state.Apply(committed, LastSequenceNr);
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
            if (++_commitsSinceStore >= _settings.StoreEvery)
            {
                StoreCommitted();
            }
        });
    }

    /// <summary>
    /// Writes <paramref name="replace"/>'s users as the whole state, the way a compaction does
    /// (chunks closed by <see cref="CheckpointCompacted"/>), then deletes the events before them.
    /// </summary>
    private void Replace(ReplacePartition replace, IActorRef replyTo)
    {
        var chunks = Chunk(replace.Epoch, replace.Users, _settings.MaxChunkBytes);
        _writing.Add(replyTo);
        if (chunks.Count > 0)
        {
            PersistAllAsync(chunks, _state.Apply);
        }

        PersistAsync(new CheckpointCompacted(replace.Epoch, replace.NextOffset, replace.Users.Count, chunks.Count, replace.WatermarkMs), compacted =>
        {
            _writing.Remove(replyTo);
            _state.Apply(compacted, LastSequenceNr);
            _handedOver.Clear();

            // Answered once the store holds it too: the tool that asked may end its process at once.
            _replacing.Add((LastSequenceNr, replyTo, new PartitionReplaced(compacted.Epoch, compacted.NextOffset, compacted.Users)));
            StoreCommitted();
        });
    }

    /// <summary>The journal's own timer: never leaves the node.</summary>
    private sealed record RetryDelete : INoSerializationVerificationNeeded
    {
        public static RetryDelete Instance { get; } = new();
    }

    private sealed record MarkRead(StateMark Mark) : INoSerializationVerificationNeeded;

    private sealed record MarkNotRead(Exception Cause) : INoSerializationVerificationNeeded;
}
