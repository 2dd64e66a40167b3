using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;

namespace FraudActors.Engine.Users;

/// <summary>
/// A user's faults: a record it missed (lost in transit), a record whose processing threw, a
/// crash of the actor itself, and the producer that carries the last good state over a restart.
/// </summary>
public sealed partial class UserActor
{
    /// <summary>
    /// Why this record must not be applied: a record sent before it in this run never reached
    /// this user (or reached an incarnation whose state this one does not have), so this state is
    /// behind the stream. From then on the user applies nothing of the run; the pipeline fails the
    /// run on the answer, and the next run reloads the user from its partition journal.
    /// </summary>
    private string? Missed(ApplyTransaction command)
    {
        if (_missedIn == command.Generation)
        {
            return "an earlier record of this run was missed";
        }

        if (command.PreviousOffset is not { } previous || previous == _state.LastAppliedOffset)
        {
            return null;
        }

        _missedIn = command.Generation;
        var why = $"offset {previous} was sent before offset {command.Offset}, but the last offset applied is {_state.LastAppliedOffset}: a record was lost in transit";
        Log.Warning("User {0}, partition {1}: {2}", _userId, command.Partition, why);
        return why;
    }

    /// <summary>
    /// Why the clock's wake must fire nothing: a record sent to this user in this run has not
    /// been applied (lost in transit, or applied by an incarnation whose state this one lacks), so
    /// its timers and windows would fire on a state behind the stream, and their outputs would be
    /// written before the run fails. A record replayed at or below the last applied offset is no gap.
    /// </summary>
    private string? Missed(AdvanceTime command)
    {
        if (_missedIn == command.Generation)
        {
            return "an earlier record of this run was missed";
        }

        if (command.PreviousOffset is not { } previous || previous <= _state.LastAppliedOffset)
        {
            return null;
        }

        _missedIn = command.Generation;
        var why = $"offset {previous} was sent before the clock woke it, but the last offset applied is {_state.LastAppliedOffset}: a record was lost in transit";
        Log.Warning("User {0}, partition {1}: {2}", _userId, command.Partition, why);
        return why;
    }

    /// <summary>
    /// The barrier names the last offset sent to this user before it: one not applied was lost,
    /// and the user applies and fires nothing more of the run (the checkpoint fails on its answer).
    /// </summary>
    private void MissedBefore(Messages.Checkpoints.CheckpointBarrier barrier)
    {
        if (barrier.ExpectedOffset is { } expected && expected > _state.LastAppliedOffset && _missedIn != _generation)
        {
            _missedIn = _generation;
            Log.Warning("User {0}, partition {1}: offset {2} was sent before checkpoint {3}, but the last offset applied is {4}: a record was lost in transit", _userId, barrier.Partition, expected, barrier.Epoch, _state.LastAppliedOffset);
        }
    }

    /// <summary>
    /// A record whose processing threw: the state stays as it was before it (apply is pure, so
    /// nothing of it was kept), only marked as having handled its offset, so the barrier's
    /// count holds and a replay does not meet it twice; the record goes to the dead-letter topic.
    /// </summary>
    private void NotApplied(ApplyTransaction command, IActorRef replyTo, Exception e)
    {
        _applying = null;
        _state = _state with { LastAppliedOffset = command.Offset };
        _partition = command.Partition;
        _changed = true;
        Log.Warning("User {0}: offset {1} of partition {2} not applied ({3}: {4}); it goes to the dead-letter topic", _userId, command.Offset, command.Partition, e.GetType().Name, e.Message);
        replyTo.Tell(new TransactionApplied(_userId, command.Partition, command.Offset, [], Duplicate: false)
        {
            NextTimerMs = Reported(NextTimerOrNone()),
            Sequence = command.Sequence,
            ProcessingError = $"{e.GetType().FullName}: {e.Message}",
        });
    }

    /// <summary>
    /// A crash the handlers did not catch (a bug in the actor itself): the record it was applying
    /// is answered as not applied, and the actor that replaces this one goes on from the last
    /// good state rather than the last checkpoint, so no record since the checkpoint is lost.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_applying is { } applying)
        {
            NotApplied(applying.Command, applying.ReplyTo, reason);
        }

        if (_phase == Phase.Active)
        {
            _producer?.Keep(new Survivor(_state, _generation, _partition, _changed));
        }

        // What waited goes on waiting, ahead of the mailbox, in the next instance (a stash's messages are put back the same way).
        _producer?.KeepWaiting(StillWaiting());
        _waiting = null;
        _taking = null;
        base.PreRestart(reason, message);
    }

    private long? NextTimerOrNone()
    {
        try
        {
            return _state.NextTimerMs(_settings);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>Makes the user's actor, and carries its last good state over a restart after a crash.</summary>
    private sealed class Producer(string userId, UserSettings settings, TimeProvider clock, IPartitionJournals? journals) : IIndirectActorProducer
    {
        private Survivor? _survivor;
        private List<(object Message, IActorRef Sender)>? _waiting;

        public Type ActorType => typeof(UserActor);

        public ActorBase Produce() => new UserActor(userId, settings, clock, journals, this);

        public void Keep(Survivor survivor) => _survivor = survivor;

        public Survivor? TakeSurvivor()
        {
            var survivor = _survivor;
            _survivor = null;
            return survivor;
        }

        public void KeepWaiting(List<(object Message, IActorRef Sender)>? waiting) => _waiting = waiting;

        public List<(object Message, IActorRef Sender)>? TakeWaiting()
        {
            var waiting = _waiting;
            _waiting = null;
            return waiting;
        }

        public void Release(ActorBase actor)
        {
        }
    }

    /// <summary>What a user actor hands to the one replacing it after a crash.</summary>
    private sealed record Survivor(UserState State, long Generation, int Partition, bool Changed);
}
