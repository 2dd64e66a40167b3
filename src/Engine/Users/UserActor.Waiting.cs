namespace FraudActors.Engine.Users;

/// <summary>
/// The messages a user keeps while its state is loaded from the partition journal or handed over
/// to it: a list of its own, made only when something waits, instead of Akka's stash, which a
/// user would pay at every start (a deque mailbox, a stash object and the mailbox requirement's
/// reflection: about 500 bytes and several µs per start, measured by <c>fraud bench</c>'s
/// starts figures; docs/design.md, "Cheap user starts").
/// </summary>
public sealed partial class UserActor
{
    /// <summary>Messages waiting, oldest first; null when none.</summary>
    private List<(object Message, IActorRef Sender)>? _waiting;

    /// <summary>The waiting messages being taken again, and the one being taken (what a crash leaves of them).</summary>
    private List<(object Message, IActorRef Sender)>? _taking;

    private int _takingAt;

    /// <summary>Messages carried over a restart are taken at once, not at the next message's coming.</summary>
    protected override void PostRestart(Exception reason)
    {
        if (_waiting is not null)
        {
            Self.Tell(TakeCarried.Instance);
        }
    }

    /// <summary>Every message, the waiting ones first once they can be taken (in the order they came).</summary>
    protected override void OnReceive(object message)
    {
        if (message is TakeCarried)
        {
            TakeWaiting();
            return;
        }

        if (_waiting is not null && _phase is Phase.Active or Phase.Unloaded)
        {
            // Messages carried over a restart (Unloaded), or still waiting after a load: they came first.
            Wait(message, Sender);
        }
        else
        {
            Receive(message, Sender);
        }

        TakeWaiting();
    }

    /// <summary>Keeps <paramref name="message"/> for when the state is there.</summary>
    private void Wait(object message, IActorRef sender) => (_waiting ??= []).Add((message, sender));

    /// <summary>
    /// Takes the waiting messages again, in order, as a stash's are put back in front of the
    /// mailbox: applied while the user can, and waiting again (in the same order) once another
    /// load begins. Unloaded (after a restart), the first user message starts the load.
    /// </summary>
    private void TakeWaiting()
    {
        while (_waiting is { } waiting && _phase is Phase.Active or Phase.Unloaded)
        {
            _waiting = null;
            _taking = waiting;
            for (_takingAt = 0; _takingAt < waiting.Count; _takingAt++)
            {
                var (message, sender) = waiting[_takingAt];
                Receive(message, sender);
            }

            _taking = null;
            if (_phase == Phase.Unloaded)
            {
                break; // nothing here starts a load: what waits again waits for the next user message
            }
        }
    }

    /// <summary>What still waits, in order (a restart carries it to the next instance).</summary>
    private List<(object Message, IActorRef Sender)>? StillWaiting()
    {
        var rest = _taking is { } taking && _takingAt + 1 < taking.Count ? taking.GetRange(_takingAt + 1, taking.Count - _takingAt - 1) : null;
        if (_waiting is null || rest is null)
        {
            return _waiting ?? rest;
        }

        return [.. _waiting, .. rest];
    }

    /// <summary>A user that stops with messages waiting (it handed its state over meanwhile) lets them go to dead letters, as a stash would.</summary>
    protected override void PostStop()
    {
        foreach (var (message, sender) in StillWaiting() ?? [])
        {
            Context.System.DeadLetters.Tell(new DeadLetter(message, sender, Self));
        }

        _waiting = null;
        _taking = null;
    }

    /// <summary>Told to itself after a restart that carried waiting messages over; never leaves the node.</summary>
    private sealed class TakeCarried : INoSerializationVerificationNeeded
    {
        public static readonly TakeCarried Instance = new();
    }
}
