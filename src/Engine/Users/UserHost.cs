using System.Runtime.InteropServices;
using FraudActors.Messages.Sharding;

namespace FraudActors.Engine.Users;

/// <summary>
/// The sharded entity of one shard of users — a Kafka partition's users, since shard =
/// partition — whose children are the users' actors (docs/design.md, "Direct delivery"). It
/// starts a user's actor on its first message and forwards each message to it, so the partition's
/// reader can tell the host directly: one hop to the host and one to the user per record, instead
/// of region, shard and entity. It passivates users idle for the configured time (each hands its
/// state to the partition journal before it stops; messages that come meanwhile wait for its next
/// incarnation), and on hand-off stops every user the same way before it stops itself.
/// </summary>
public sealed class UserHost : UntypedActor
{
    private readonly Func<string, Props> _userProps;
    private readonly int _idleSweeps;
    private readonly Dictionary<string, Resident> _users = new(StringComparer.Ordinal);
    private readonly UserHostRegistry.Entry _entry;

    /// <summary>Users handing their state over, with the messages that came for them meanwhile.</summary>
    private readonly Dictionary<IActorRef, Leaving> _leaving = [];
    private readonly Dictionary<string, Leaving> _leavingById = new(StringComparer.Ordinal);

    private ICancelable? _sweeps;
    private int _sweep;
    private bool _handingOff;

    public UserHost(Func<string, Props> userProps, TimeSpan passivateAfter)
    {
        _userProps = userProps;
        _idleSweeps = passivateAfter > TimeSpan.Zero ? SweepsPerIdleTime : 0;
        SweepEvery = passivateAfter / SweepsPerIdleTime;
        _entry = new UserHostRegistry.Entry(Self);
    }

    /// <summary>How many sweeps an idle time spans: a user is passivated between 1 and 1¼ times it after its last message.</summary>
    private const int SweepsPerIdleTime = 4;

    private TimeSpan SweepEvery { get; }

    /// <summary>
    /// The props of a host whose users are made by <paramref name="userProps"/> and passivated
    /// after <paramref name="passivateAfter"/> without a message (zero: never).
    /// </summary>
    public static Props PropsFor(Func<string, Props> userProps, TimeSpan passivateAfter) =>
        Props.Create(() => new UserHost(userProps, passivateAfter));

    /// <summary>Children stopped: each one seen here, on the host's thread, with no watch per user.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new Supervision(this);

    protected override void PreStart()
    {
        // The region's path and the shard: /…/sharding/{type}/{shard}/{entity}.
        UserHostRegistry.For(Context.System).Register(Self.Path.Parent.Parent, Self.Path.Parent.Name, _entry);
        if (_idleSweeps > 0)
        {
            _sweeps = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(SweepEvery, SweepEvery, Self, Sweep.Instance, Self);
        }
    }

    protected override void PostStop()
    {
        _sweeps?.Cancel();
        UserHostRegistry.For(Context.System).Withdraw(Self.Path.Parent.Parent, Self.Path.Parent.Name, _entry);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IUserMessage user:
                Deliver(user);
                break;
            case StopUser:
                HandOff();
                break;
            case Sweep:
                PassivateIdle();
                break;
            case WakeUserHost:
                Sender.Tell(new UserHostAwake(Self.Path.Parent.Name));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Deliver(IUserMessage message)
    {
        if (_handingOff)
        {
            // The shard moves: what still comes is for the users' next host (a record lost here fails its checkpoint).
            Unhandled(message);
            return;
        }

        if (_leavingById.Count > 0 && _leavingById.TryGetValue(message.UserId, out var leaving))
        {
            leaving.Waiting.Add((message, Sender));
            return;
        }

        ref var user = ref CollectionsMarshal.GetValueRefOrAddDefault(_users, message.UserId, out var exists);
        if (!exists)
        {
            user.Actor = Context.ActorOf(_userProps(message.UserId));
            _entry.Users = _users.Count;
        }

        user.Seen = _sweep;
        user.Actor.Forward(message);
    }

    /// <summary>Stops the users not heard from for the idle time; each hands its state over first.</summary>
    private void PassivateIdle()
    {
        _sweep++;
        List<string>? idle = null;
        foreach (var (userId, user) in _users)
        {
            if (_sweep - user.Seen > _idleSweeps)
            {
                (idle ??= []).Add(userId);
            }
        }

        foreach (var userId in idle ?? [])
        {
            Leave(userId);
        }
    }

    /// <summary>The shard is handed off (a rebalance, or this node leaves): every user hands its state over, then the host stops.</summary>
    private void HandOff()
    {
        _handingOff = true;
        foreach (var userId in _users.Keys.ToList())
        {
            Leave(userId);
        }

        StopWhenEmpty();
    }

    private void Leave(string userId)
    {
        _users.Remove(userId, out var user);
        _entry.Users = _users.Count;
        var leaving = new Leaving(userId);
        _leaving[user.Actor] = leaving;
        _leavingById[userId] = leaving;
        user.Actor.Tell(StopUser.Instance);
    }

    /// <summary>A child stopped: a leaving user's waiting messages go to its next incarnation; one that stopped on its own is forgotten.</summary>
    private void Stopped(IActorRef child)
    {
        if (_leaving.Remove(child, out var leaving))
        {
            _leavingById.Remove(leaving.UserId);
            if (!_handingOff && leaving.Waiting.Count > 0)
            {
                // Straight to the next incarnation, in the order they came (it takes the state just handed over).
                var actor = Context.ActorOf(_userProps(leaving.UserId));
                _users[leaving.UserId] = new Resident { Actor = actor, Seen = _sweep };
                _entry.Users = _users.Count;
                foreach (var (message, sender) in leaving.Waiting)
                {
                    actor.Tell(message, sender);
                }
            }
        }
        else if (_users.FirstOrDefault(u => u.Value.Actor.Equals(child)).Key is { } userId)
        {
            // Stopped by its supervisor (it failed to start): its next message starts it again.
            _users.Remove(userId);
            _entry.Users = _users.Count;
        }

        StopWhenEmpty();
    }

    private void StopWhenEmpty()
    {
        if (_handingOff && _users.Count == 0 && _leaving.Count == 0)
        {
            Context.Stop(Self);
        }
    }

    /// <summary>A user's actor and the sweep in which it last had a message.</summary>
    private struct Resident
    {
        public IActorRef Actor;
        public int Seen;
    }

    private sealed record Leaving(string UserId)
    {
        public List<(object Message, IActorRef Sender)> Waiting { get; } = [];
    }

    /// <summary>The host's own timer: never leaves the node, so never serialized (<see cref="Serialization.WireSerializer"/>).</summary>
    private sealed class Sweep : INoSerializationVerificationNeeded
    {
        public static readonly Sweep Instance = new();
    }

    /// <summary>Restarts a user that crashed (<see cref="UserActor"/> carries its last good state over), and tells the host of every child that stopped.</summary>
    private sealed class Supervision(UserHost host) : OneForOneStrategy(Akka.Actor.SupervisorStrategy.DefaultDecider)
    {
        public override void HandleChildTerminated(IActorContext actorContext, IActorRef child, IEnumerable<IInternalActorRef> children) =>
            host.Stopped(child);
    }
}
