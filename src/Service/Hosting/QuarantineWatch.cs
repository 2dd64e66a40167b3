using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Completes when another node has quarantined this one: it removed this node from the cluster
/// while this one did not answer (frozen, stalled under load), and will never talk to it again.
/// Such a node downs itself at once and stops, as one told it was removed does: going on, even
/// for the seconds its stop takes, its split-brain resolver would down the real members from its
/// own side, it would form a cluster of its own, and that cluster's new outbox publisher would
/// take the outbox's epoch and fence the real cluster's publisher (docs/design.md, "One cluster
/// per job"). Downed, its singleton managers stop and it removes itself.
/// </summary>
public static class QuarantineWatch
{
    /// <summary>Starts watching <paramref name="system"/>'s remoting; the task completes, naming the node that quarantined this one, on the first quarantine.</summary>
    public static Task<string> Start(ActorSystem system, ILoggingAdapter log)
    {
        var quarantined = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = system.ActorOf(Props.Create(() => new Watcher(quarantined, log)), "quarantine-watch");
        system.EventStream.Subscribe(watch, typeof(ThisActorSystemQuarantinedEvent));
        return quarantined.Task;
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(TaskCompletionSource<string> quarantined, ILoggingAdapter log)
        {
            Receive<ThisActorSystemQuarantinedEvent>(e =>
            {
                if (quarantined.TrySetResult(e.RemoteAddress.ToString()))
                {
                    log.Error("This node was quarantined by {0}: the cluster removed it while it did not answer; downing itself and stopping", e.RemoteAddress);
                    var cluster = Cluster.Get(Context.System);
                    cluster.Down(cluster.SelfAddress);
                }
            });
        }
    }
}
