using Akka.Actor;
using Akka.Event;
using FraudActors.Actors.Rules;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;

namespace FraudActors.Actors.Users;

/// <summary>
/// One user's sharded actor: holds the user's <see cref="UserState"/> and applies its
/// transactions in offset order. The logic lives in <see cref="UserState.Apply"/>; this class
/// only receives, replies and keeps the state.
/// </summary>
public sealed class UserActor : ReceiveActor
{
    /// <summary>
    /// Alerts of the last few applied records are kept so that a record read again after a
    /// stream restart (its alert possibly never published) yields the same alerts, same ids.
    /// </summary>
    private const int RecentAlertsKept = 8;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<(long Offset, IReadOnlyList<Alert> Alerts)> _recentAlerts = new();
    private UserState _state;

    public UserActor(string userId, RuleSettings rules, TimeProvider clock)
    {
        _state = UserState.Empty(userId);
        Receive<ApplyTransaction>(command =>
        {
            if (command.Offset <= _state.LastAppliedOffset)
            {
                _log.Debug("User {0}: offset {1} of partition {2} already applied", _state.UserId, command.Offset, command.Partition);
                var again = _recentAlerts.FirstOrDefault(r => r.Offset == command.Offset).Alerts ?? [];
                Sender.Tell(new TransactionApplied(_state.UserId, command.Partition, command.Offset, again, Duplicate: true));
                return;
            }

            (_state, var alerts) = _state.Apply(command, rules, clock.GetUtcNow());
            if (alerts.Count > 0)
            {
                if (_recentAlerts.Count == RecentAlertsKept)
                {
                    _recentAlerts.Dequeue();
                }

                _recentAlerts.Enqueue((command.Offset, alerts));
            }

            Sender.Tell(new TransactionApplied(_state.UserId, command.Partition, command.Offset, alerts, Duplicate: false));
        });
    }

    public static Props PropsFor(string userId, RuleSettings rules, TimeProvider clock) =>
        Props.Create(() => new UserActor(userId, rules, clock));
}
