using Akka.Persistence;
using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// The partition journal's side of the users' state store (docs/design.md, "State beyond
/// memory"): reading the users only the store holds, in batches; writing the committed states
/// to it behind the stream and deleting the events it then holds; knowing which users it holds.
/// </summary>
public sealed partial class PartitionJournal
{
    /// <summary>
    /// Builds the filter of the store's users in the background (an empty store needs no scan);
    /// until it is there, a user not in memory is read from the store, as a new one is.
    /// </summary>
    private void ScanKnownUsers(long users)
    {
        if (_stores.Store.InMemory || _storedWhileScanning is not null)
        {
            return;
        }

        var known = KnownUsers.For(users);
        if (users == 0)
        {
            _known = known;
            return;
        }

        _storedWhileScanning = [];
        _stores.Store.ScanUserIdsAsync(PersistenceId, known.Add, CancellationToken.None).PipeTo(
            Self,
            success: () => new UsersScanned(known),
            failure: cause => new UsersNotScanned(cause));
    }

    /// <summary>A user's state: from memory when there, else read from the store with the other users waiting for it.</summary>
    private void Load(LoadUser load)
    {
        if (_view.TryRead(load.UserId, out var state))
        {
            Sender.Tell(new UserLoaded(load.UserId, state, load.Load));
            return;
        }

        if (!_waiting.TryGetValue(load.UserId, out var waiting))
        {
            _waiting[load.UserId] = waiting = [];
        }

        waiting.Add((Sender, load.Load));
        ReadWaiting();
    }

    /// <summary>Reads the waiting users' states, one batch at a time; users asking meanwhile go in the next.</summary>
    private void ReadWaiting()
    {
        if (_reading || _waiting.Count == 0)
        {
            return;
        }

        _reading = true;
        var userIds = _waiting.Keys.ToArray();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _stores.Store.ReadAsync(PersistenceId, userIds, CancellationToken.None).ContinueWith(
            read =>
            {
                _stores.Reads.Record(userIds.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                return read;
            },
            TaskScheduler.Default).Unwrap().PipeTo(
            Self,
            success: found => new UsersRead(userIds, found, null),
            failure: cause => new UsersRead(userIds, null, cause));
    }

    private void Read(UsersRead read)
    {
        _reading = false;
        foreach (var userId in read.UserIds)
        {
            if (!_waiting.Remove(userId, out var waiting))
            {
                continue;
            }

            if (read.Found is null)
            {
                waiting.ForEach(w => w.ReplyTo.Tell(new Status.Failure(new InvalidOperationException($"{PersistenceId}: {userId}'s state not read: {DatabaseError.Describe(read.Failure!)}", read.Failure))));
                continue;
            }

            // Memory first: a state committed or handed over while the store was read is newer.
            // (Not through the view: the cache's miss for this start is counted already.)
            var state = _handedOver.GetValueOrDefault(userId) ?? _state.Recent.GetValueOrDefault(userId)?.State;
            if (state is null && !_state.StoreIsStale)
            {
                state = read.Found.GetValueOrDefault(userId);
                if (state is not null)
                {
                    _stores.Cache.Put(PersistenceId, userId, state);
                }
            }

            waiting.ForEach(w => w.ReplyTo.Tell(new UserLoaded(userId, state, w.Load)));
        }

        ReadWaiting();
    }

    private void FailWaiting(Exception cause)
    {
        foreach (var waiting in _waiting.Values.SelectMany(w => w))
        {
            waiting.ReplyTo.Tell(new Status.Failure(cause));
        }

        _waiting.Clear();
    }

    /// <summary>
    /// Writes the states committed since the store's mark to the store, unless a write is under
    /// way (its end starts the next). The journal keeps working meanwhile: the states stay in
    /// memory and in the events until the store has them.
    /// </summary>
    private void StoreCommitted()
    {
        if (_storing || _state.LastCommitSequence <= _state.Stored.Sequence)
        {
            return;
        }

        _storing = true;
        _commitsSinceStore = 0;
        var write = _state.ToStore();
        _stores.Store.WriteAsync(PersistenceId, write, CancellationToken.None).PipeTo(
            Self,
            success: mark => new StateStored(write, mark),
            failure: cause => new StateNotStored(cause));
    }

    /// <summary>The store has the commits up to the mark: their states leave memory for the cache, their events go.</summary>
    private void Stored(StateStored stored)
    {
        _storing = false;
        if (stored.Write.Replace)
        {
            _stores.Cache.RemoveJournal(PersistenceId);
        }

        // Known to the filter before it leaves memory: a reader then finds it in one or the other.
        if (stored.Write.Replace && !_stores.Store.InMemory)
        {
            _known = KnownUsers.For(stored.Mark.Users);
        }

        foreach (var user in stored.Write.Users)
        {
            _known?.Add(user.UserId);
            _storedWhileScanning?.Add(user.UserId);
        }

        _state.StoredUpTo(stored.Mark, _stores.Store.InMemory ? null : (userId, state) => _stores.Cache.Put(PersistenceId, userId, state));
        if (_known is { Full: true })
        {
            // Past its size it says "maybe" too often: a larger one from the store.
            ScanKnownUsers(stored.Mark.Users);
        }
        foreach (var replaced in _replacing.Where(r => r.Sequence <= stored.Mark.Sequence).ToList())
        {
            replaced.ReplyTo.Tell(replaced.Reply);
            _replacing.Remove(replaced);
        }

        // The last commit event stays (its chunks go): it is where recovery finds the epoch,
        // the offset and the watermark.
        _deleteTo = stored.Mark.Sequence - 1;
        if (_deleteTo > 0)
        {
            DeleteMessages(_deleteTo);
            DeleteSnapshots(new SnapshotSelectionCriteria(_deleteTo));
        }
        if (_commitsSinceStore >= _settings.StoreEvery)
        {
            StoreCommitted();
        }
    }

    /// <summary>The journal's own timer: never leaves the node.</summary>
    private sealed record RetryStore : INoSerializationVerificationNeeded
    {
        public static RetryStore Instance { get; } = new();
    }
    /// <summary>The store answered a read of waiting users (<paramref name="Found"/> null: it failed with <paramref name="Failure"/>).</summary>
    private sealed record UsersRead(string[] UserIds, Dictionary<string, byte[]>? Found, Exception? Failure) : INoSerializationVerificationNeeded;
    private sealed record UsersScanned(KnownUsers Known) : INoSerializationVerificationNeeded;
    private sealed record UsersNotScanned(Exception Cause) : INoSerializationVerificationNeeded;
    private sealed record StateStored(StateWrite Write, StateMark Mark) : INoSerializationVerificationNeeded;
    private sealed record StateNotStored(Exception Cause) : INoSerializationVerificationNeeded;
}
