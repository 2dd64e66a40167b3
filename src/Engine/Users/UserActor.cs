using FraudActors.Engine.Rules;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Sharding;

namespace FraudActors.Engine.Users;

/// <summary>
/// One user's sharded actor: holds the user's <see cref="UserState"/> and applies its
/// transactions in offset order. With partition journals it starts from its last checkpointed
/// state, answers checkpoint barriers with its state, and hands its state over before it stops.
/// The logic lives in <see cref="UserState.Apply"/>; this class only receives, replies and keeps
/// the state.
/// </summary>
public sealed partial class UserActor : UntypedActor
{
    /// <summary>
    /// Alerts of the last few applied records are kept so that a record read again after a
    /// stream restart (its alert possibly never published) yields the same alerts, same ids.
    /// </summary>
    private const int RecentAlertsKept = 8;

    private readonly string _userId;
    private readonly UserSettings _settings;
    private readonly TimeProvider _clock;
    private readonly IPartitionJournals? _journals;
    private readonly Producer? _producer;

    // Made when first needed: most users never log and never alert, and a user actor's few
    // hundred bytes are what a node holds a million of.
    private ILoggingAdapter? _log;
    private Queue<(long Offset, IReadOnlyList<Alert> Alerts)>? _recentAlerts;

    private UserState _state;
    private Phase _phase;
    private long _generation;
    private int _partition;
    private int _loads;
    private int _loadFailures;
    private long? _askedAgainFor;

    /// <summary>The run (generation) in which this user missed a record: it applies nothing more of it.</summary>
    private long? _missedIn;

    /// <summary>True when the state changed since it was last given to a barrier or the journal.</summary>
    private bool _changed;

    /// <summary>
    /// The partition's clock is sure to wake this user by this time (long.MaxValue: not sure of
    /// any): its index holds an entry no later than the earliest next timer this user reported
    /// since its last wake. A record that leaves the next timer at or after it needs no reply
    /// (docs/design.md, "Timers without a reply per record").
    /// </summary>
    private long _wokenBy = long.MaxValue;

    /// <summary>The record being applied and who waits for its answer, until it is answered.</summary>
    private (ApplyTransaction Command, IActorRef ReplyTo)? _applying;

    public UserActor(string userId, UserSettings settings, TimeProvider clock, IPartitionJournals? journals = null)
        : this(userId, settings, clock, journals, producer: null)
    {
    }

    private UserActor(string userId, UserSettings settings, TimeProvider clock, IPartitionJournals? journals, Producer? producer)
    {
        _userId = userId;
        _settings = settings;
        _clock = clock;
        _journals = journals;
        _producer = producer;
        _state = UserState.Empty(userId);
        _phase = journals is null ? Phase.Active : Phase.Unloaded;
        if (producer?.TakeSurvivor() is { } survivor)
        {
            // Restarted after a crash: the last good state goes on, not the last checkpoint.
            (_state, _generation, _partition, _changed) = survivor;
            _phase = Phase.Active;
        }

        _waiting = producer?.TakeWaiting();
    }

    /// <summary>Unloaded until its first message asks the journal; Loading until the state comes; Stopping while it hands its state over.</summary>
    private enum Phase
    {
        Unloaded,
        Loading,
        Active,
        Stopping,
    }

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    /// <summary>
    /// A user's props, made for every user sharding starts: a producer that calls the constructor,
    /// not <c>Props.Create(() =&gt; …)</c>, whose expression Akka compiles into new code per call
    /// (for 100,000 users, 100,000 compilations that also kept the JIT from optimising the rest).
    /// </summary>
    public static Props PropsFor(string userId, UserSettings settings, TimeProvider clock, IPartitionJournals? journals = null) =>
        Props.CreateBy(new Producer(userId, settings, clock, journals));

    /// <summary>One switch per phase instead of <c>Become</c>'s handler tables: a user actor is started once per user, and cheaply.</summary>
    private void Receive(object message, IActorRef sender)
    {
        switch (_phase)
        {
            case Phase.Active:
                Active(message, sender);
                break;
            case Phase.Stopping:
                Stopping(message, sender);
                break;
            default:
                Loading(message, sender);
                break;
        }
    }

    /// <summary>Waits for the user's last checkpointed state; everything else waits (<see cref="Wait"/>).</summary>
    private void Loading(object message, IActorRef sender)
    {
        switch (message)
        {
            case UserLoaded loaded when _phase == Phase.Loading && loaded.Load == _loads:
                _askedAgainFor = null;
                _loadFailures = 0;
                Loaded(loaded.State); // what waited is applied next (OnReceive)
                break;
            case UserLoaded:
                break; // the answer to a request asked again since
            case Status.Failure when _phase == Phase.Loading:
                // The journal is restarting after a database error: asked again after a pause
                // that grows while it stays away, so the records waiting here are applied once it
                // is back (a rewind that comes first asks again anyway).
                _loadFailures++;
                // One message, at most once per pause; a timer scheduler (IWithTimers) would cost every user its memory.
#pragma warning disable AK1004
                Context.System.Scheduler.ScheduleTellOnce(LoadRetryDelay(_loadFailures), Self, new LoadAgain(_loads), Self);
#pragma warning restore AK1004
                break;
            case LoadAgain again when _phase == Phase.Loading && again.Load == _loads:
                RequestState();
                break;
            case Status.Failure or LoadAgain:
                break;
            case IUserMessage first when _phase == Phase.Unloaded:
                _partition = first.Partition;
                _generation = GenerationOf(first) ?? _generation;
                if (LoadedLocally())
                {
                    Active(message, sender);
                    break;
                }

                RequestState();
                Wait(message, sender);
                break;
            case IUserMessage next when GenerationOf(next) is { } g && g != _generation && g != _askedAgainFor:
                // A message of another run while waiting: the stream restarted, perhaps because
                // this request was lost (as an ask's timeout used to retry). Asked again, once
                // per run; the generation changes when the message itself is applied.
                _askedAgainFor = g;
                RequestState();
                Wait(message, sender);
                break;
            default:
                Wait(message, sender);
                break;
        }
    }

    private void Active(object message, IActorRef sender)
    {
        switch (message)
        {
            case ApplyTransaction apply:
                Apply(apply, sender);
                break;
            case AdvanceTime advance:
                Advance(advance, sender);
                break;
            case CheckpointBarrier barrier:
                MissedBefore(barrier);
                sender.Tell(new UserCheckpointState(_userId, barrier.Partition, barrier.Epoch, _state.LastAppliedOffset, UserStateCodec.Encode(_state, _settings)));
                _changed = false;
                break;
            case StopUser:
                Stop();
                break;
            case GetUserState:
                sender.Tell(new CurrentUserState(_userId, _partition, _state.LastAppliedOffset, UserStateCodec.Encode(_state, _settings)));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Stopping(object message, IActorRef sender)
    {
        switch (message)
        {
            case UserHandedOver:
                Context.Stop(Self);
                break;
            case Status.Failure failure:
                throw new InvalidOperationException($"user {_userId}: state not handed over", failure.Cause);
            default:
                Wait(message, sender);
                break;
        }
    }

    private void Apply(ApplyTransaction command, IActorRef sender)
    {
        UserTraffic.Received(fromAnotherNode: !sender.Path.Address.HasLocalScope);
        if (Rewound(command, sender))
        {
            return;
        }

        if (command.Offset <= _state.LastAppliedOffset)
        {
            if (Log.IsDebugEnabled)
            {
                Log.Debug("User {0}: offset {1} of partition {2} already applied", _userId, command.Offset, command.Partition);
            }

            var again = _recentAlerts?.FirstOrDefault(r => r.Offset == command.Offset).Alerts ?? [];
            sender.Tell(new TransactionApplied(_userId, command.Partition, command.Offset, again, Duplicate: true) { NextTimerMs = Reported(_state.NextTimerMs(_settings)), Sequence = command.Sequence });
            return;
        }

        if (Missed(command) is { } lost)
        {
            sender.Tell(new TransactionApplied(_userId, command.Partition, command.Offset, [], Duplicate: false) { Sequence = command.Sequence, Lost = lost });
            return;
        }

        UserOutcome outcome;
        _applying = (command, sender);
        try
        {
            outcome = _state.Apply(command, RuleSets.For(_settings, command.Rules), _clock.GetUtcNow());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            NotApplied(command, sender, e);
            return;
        }

        var alerts = outcome.Alerts;
        _state = outcome.State;
        _partition = command.Partition;
        _changed = true;
        if (alerts.Count > 0)
        {
            _recentAlerts ??= new Queue<(long Offset, IReadOnlyList<Alert> Alerts)>(1);
            if (_recentAlerts.Count == RecentAlertsKept)
            {
                _recentAlerts.Dequeue();
            }

            _recentAlerts.Enqueue((command.Offset, alerts));
        }

        var timerAfter = _state.NextTimerMs(_settings);
        if (sender is IAppliedCounter counter && alerts.Count == 0 && outcome.Windows.Count == 0 && !outcome.DuplicateTxId && (timerAfter ?? long.MaxValue) >= _wokenBy)
        {
            // Nothing to report, and the clock already wakes this user by its next timer (or earlier: a wake finds nothing due and re-indexes it).
            counter.Applied(command.Sequence);
        }
        else
        {
            sender.Tell(new TransactionApplied(_userId, command.Partition, command.Offset, alerts, Duplicate: false)
            {
                Windows = outcome.Windows,
                NextTimerMs = Reported(timerAfter),
                Sequence = command.Sequence,
                DuplicateTxId = outcome.DuplicateTxId,
            });
        }

        _applying = null;
    }

    /// <summary>The partition's clock passed this user's next timer or window end.</summary>
    private void Advance(AdvanceTime command, IActorRef sender)
    {
        if (Rewound(command, sender))
        {
            return;
        }

        if (Missed(command) is { } lost)
        {
            sender.Tell(new TimeAdvanced(_userId, command.Partition, [], null) { Lost = lost });
            return;
        }

        UserOutcome outcome;
        try
        {
            outcome = _state.Advance(command.WatermarkMs, command.NowMs, RuleSets.For(_settings, command.Rules), _clock.GetUtcNow());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not woken by the clock again (that would throw at every tick): its next record fires what is due.
            Log.Error(e, "User {0}: timers or windows due at watermark {1} not fired", _userId, command.WatermarkMs);
            _wokenBy = long.MaxValue;
            sender.Tell(new TimeAdvanced(_userId, command.Partition, [], null));
            return;
        }

        if (!ReferenceEquals(outcome.State, _state))
        {
            _state = outcome.State;
            _changed = true;
        }

        _partition = command.Partition;

        // The wake took this user's entry out of the index: the reply puts it back.
        _wokenBy = long.MaxValue;
        sender.Tell(new TimeAdvanced(_userId, command.Partition, outcome.Windows, Reported(_state.NextTimerMs(_settings))));
    }

    /// <summary>A next timer about to be told to the partition's clock, which indexes the earliest it is told.</summary>
    private long? Reported(long? nextTimerMs)
    {
        if (nextTimerMs is { } due && due < _wokenBy)
        {
            _wokenBy = due;
        }

        return nextTimerMs;
    }

    /// <summary>
    /// Another generation: the partition was rewound to its last checkpoint (a stream restart, or
    /// another node took the partition over), and this state may be ahead of it. Generations
    /// differ across runs and nodes (<see cref="Ingest.TransactionIngest"/>), so any change reloads.
    /// </summary>
    private bool Rewound(IUserMessage message, IActorRef sender)
    {
        var generation = GenerationOf(message) ?? _generation;
        if (generation == _generation)
        {
            return false;
        }

        _generation = generation;
        if (_journals is null)
        {
            // Nothing to reload from; the new run's clock is rebuilt without this user's timers.
            _wokenBy = long.MaxValue;
            return false;
        }

        _partition = message.Partition;
        if (LoadedLocally())
        {
            return false;
        }

        Wait(message, sender);
        RequestState();
        return true;
    }

    /// <summary>
    /// Takes the user's last state from its partition journal's view when the journal runs
    /// recovered on this node: a start without a round trip or a stash (docs/design.md, "Cheap
    /// user starts"). False when it does not, or the state is only in the store: the journal is asked.
    /// </summary>
    private bool LoadedLocally()
    {
        if (_journals?.LocalView(_partition) is not { } view || !view.TryRead(_userId, out var state))
        {
            return false;
        }

        Loaded(state);
        return true;
    }

    /// <summary>The state the journal holds (null: a user it has never seen) replaces this one.</summary>
    private void Loaded(byte[]? state)
    {
        _state = state is null ? UserState.Empty(_userId) : UserStateCodec.Decode(state, _settings);
        _recentAlerts?.Clear();
        _changed = false;

        // Another run's clock, rebuilt from the checkpoint: nothing reported to it yet.
        _wokenBy = long.MaxValue;
        _phase = Phase.Active;
    }

    /// <summary>Never stop with state the partition journal does not hold (docs/design.md, section 4, step 5).</summary>
    private void Stop()
    {
        if (_journals is null || !_changed)
        {
            Context.Stop(Self);
            return;
        }

        _journals.For(_partition)
            .Ask<UserHandedOver>(new HandOverUser(_userId, UserStateCodec.Encode(_state, _settings)), TimeSpan.FromSeconds(30))
            .PipeTo(Self);
        _phase = Phase.Stopping;
    }

    /// <summary>200 ms doubling to 5 s: many users waiting for one journal must not flood it while it is away.</summary>
    private static TimeSpan LoadRetryDelay(int failures) => TimeSpan.FromMilliseconds(Math.Min(5_000, 200 * (1 << Math.Min(failures - 1, 5))));

    /// <summary>Time to ask the journal again for the state of load <paramref name="Load"/>; told to itself, never leaves the node.</summary>
    private sealed record LoadAgain(int Load) : INoSerializationVerificationNeeded;

    private static long? GenerationOf(IUserMessage message) => message switch
    {
        ApplyTransaction apply => apply.Generation,
        AdvanceTime advance => advance.Generation,
        _ => null,
    };

    /// <summary>Asks the partition journal for the user's state, the answer coming straight to this actor (no ask, no timer: a user is started once per user).</summary>
    private void RequestState()
    {
        _phase = Phase.Loading;
        _loads++;
        _journals!.For(_partition).Tell(new LoadUser(_userId, _loads), Self);
    }
}
