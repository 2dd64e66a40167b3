using Akka.Actor;
using Akka.Event;
using FraudActors.Actors.Checkpoints;
using FraudActors.Actors.Rules;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Sharding;

namespace FraudActors.Actors.Users;

/// <summary>
/// One user's sharded actor: holds the user's <see cref="UserState"/> and applies its
/// transactions in offset order. With partition journals it starts from its last checkpointed
/// state, answers checkpoint barriers with its state, and hands its state over before it stops.
/// The logic lives in <see cref="UserState.Apply"/>; this class only receives, replies and keeps
/// the state.
/// </summary>
public sealed class UserActor : ReceiveActor, IWithUnboundedStash
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
    private UserState _state;

    // Both made on first use: most users never replay a record or raise an alert, and a resident
    // user's bytes count a million times over (docs/benchmarks.md, memory).
    private ILoggingAdapter? _log;
    private Queue<(long Offset, IReadOnlyList<Alert> Alerts)>? _recentAlerts;
    private long _generation;
    private int _partition;

    /// <summary>True when the state changed since it was last given to a barrier or the journal.</summary>
    private bool _changed;

    public UserActor(string userId, UserSettings settings, TimeProvider clock, IPartitionJournals? journals = null)
    {
        _userId = userId;
        _settings = settings;
        _clock = clock;
        _journals = journals;
        _state = UserState.Empty(userId);
        if (journals is null)
        {
            Active();
        }
        else
        {
            Loading(requested: false);
        }
    }

    public IStash Stash { get; set; } = null!;

    public static Props PropsFor(string userId, UserSettings settings, TimeProvider clock, IPartitionJournals? journals = null) =>
        Props.Create(() => new UserActor(userId, settings, clock, journals));

    /// <summary>Waits for the user's last checkpointed state; everything else waits in the stash.</summary>
    private void Loading(bool requested)
    {
        Become(() =>
        {
            Receive<UserLoaded>(loaded =>
            {
                _state = loaded.State is null ? UserState.Empty(_userId) : UserStateCodec.Decode(loaded.State, _settings);
                _recentAlerts = null;
                _changed = false;
                Stash.UnstashAll();
                Active();
            });
            Receive<Status.Failure>(failure => throw new InvalidOperationException($"user {_userId}: its partition journal did not answer", failure.Cause));
            ReceiveAny(message =>
            {
                if (!requested && message is IUserMessage first)
                {
                    requested = true;
                    _partition = first.Partition;
                    _generation = first switch
                    {
                        ApplyTransaction apply => apply.Generation,
                        AdvanceTime advance => advance.Generation,
                        _ => _generation,
                    };
                    RequestState();
                }

                Stash.Stash();
            });
        });
    }

    private void Active()
    {
        Become(() =>
        {
            Receive<ApplyTransaction>(Apply);
            Receive<AdvanceTime>(Advance);
            Receive<CheckpointBarrier>(barrier =>
            {
                Sender.Tell(new UserCheckpointState(_userId, barrier.Partition, barrier.Epoch, _state.LastAppliedOffset, UserStateCodec.Encode(_state, _settings)));
                _changed = false;
            });
            Receive<StopUser>(_ => Stop());
            Receive<GetUserState>(_ => Sender.Tell(new CurrentUserState(_userId, _partition, _state.LastAppliedOffset, UserStateCodec.Encode(_state, _settings))));
        });
    }

    private void Apply(ApplyTransaction command)
    {
        UserTraffic.Received(fromAnotherNode: !Sender.Path.Address.HasLocalScope);
        if (Rewound(command.Generation, command.Partition))
        {
            return;
        }

        if (command.Offset <= _state.LastAppliedOffset)
        {
            (_log ??= Context.GetLogger()).Debug("User {0}: offset {1} of partition {2} already applied", _userId, command.Offset, command.Partition);
            var again = _recentAlerts?.FirstOrDefault(r => r.Offset == command.Offset).Alerts ?? [];
            Sender.Tell(new TransactionApplied(_userId, command.Partition, command.Offset, again, Duplicate: true) { NextTimerMs = _state.NextTimerMs(_settings) });
            return;
        }

        var outcome = _state.Apply(command, _settings, _clock.GetUtcNow());
        var alerts = outcome.Alerts;
        _state = outcome.State;
        _partition = command.Partition;
        _changed = true;
        if (alerts.Count > 0)
        {
            _recentAlerts ??= new Queue<(long Offset, IReadOnlyList<Alert> Alerts)>(RecentAlertsKept);
            if (_recentAlerts.Count == RecentAlertsKept)
            {
                _recentAlerts.Dequeue();
            }

            _recentAlerts.Enqueue((command.Offset, alerts));
        }

        Sender.Tell(new TransactionApplied(_userId, command.Partition, command.Offset, alerts, Duplicate: false)
        {
            Windows = outcome.Windows,
            NextTimerMs = _state.NextTimerMs(_settings),
        });
    }

    /// <summary>The partition's clock passed this user's next timer or window end.</summary>
    private void Advance(AdvanceTime command)
    {
        if (Rewound(command.Generation, command.Partition))
        {
            return;
        }

        var outcome = _state.Advance(command.WatermarkMs, command.NowMs, _settings, _clock.GetUtcNow());
        if (!ReferenceEquals(outcome.State, _state))
        {
            _state = outcome.State;
            _changed = true;
        }

        _partition = command.Partition;
        Sender.Tell(new TimeAdvanced(_userId, command.Partition, outcome.Windows, _state.NextTimerMs(_settings)));
    }

    /// <summary>
    /// Another generation: the partition was rewound to its last checkpoint (a stream restart, or
    /// another node took the partition over), and this state may be ahead of it. Generations
    /// differ across runs and nodes (<see cref="Ingest.TransactionIngest"/>), so any change reloads.
    /// </summary>
    private bool Rewound(long generation, int partition)
    {
        if (_journals is null || generation == _generation)
        {
            return false;
        }

        _generation = generation;
        _partition = partition;
        Stash.Stash();
        RequestState();
        Loading(requested: true);
        return true;
    }

    /// <summary>Never stop with state the partition journal does not hold (DESIGN.md section 4, step 5).</summary>
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
        Become(() =>
        {
            Receive<UserHandedOver>(_ => Context.Stop(Self));
            Receive<Status.Failure>(failure => throw new InvalidOperationException($"user {_userId}: state not handed over", failure.Cause));
            ReceiveAny(_ => Stash.Stash());
        });
    }

    private void RequestState() =>
        _journals!.For(_partition).Ask<UserLoaded>(new LoadUser(_userId), TimeSpan.FromSeconds(30)).PipeTo(Self);
}
