using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Confluent.Kafka;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Hosting;

/// <summary>What the commands do with each alert and window result as it is raised (print it, or nothing).</summary>
public sealed record NodeOutputs(Action<Alert> OnAlert, Action<WindowResult>? OnWindow = null)
{
    public static NodeOutputs None { get; } = new(_ => { });
}

/// <summary>
/// A node's side of the outboxes (docs/design.md, section 4): its pipeline inserts
/// alerts and window results into the outbox tables; the cluster's one publisher (a singleton, on
/// the oldest node) puts the rows on the topics. The publisher takes each outbox's epoch in the
/// store (and, when configured, the job's transactional ids), so that one of another cluster of
/// the job, or a zombie of this one, is fenced.
/// </summary>
public sealed class NodeOutboxes
{
    private const string ManagerName = "outbox";

    /// <summary>Longer than the publisher's own drain limit, so its answer comes first.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorSystem _system;

    private NodeOutboxes(ActorSystem system, Outbox<Alert> alerts, Outbox<WindowResult>? windows)
    {
        _system = system;
        Alerts = alerts;
        Windows = windows;
    }

    /// <summary>Where this node's pipeline inserts alerts.</summary>
    public Outbox<Alert> Alerts { get; }

    /// <summary>Where this node's pipeline inserts window results; null without windows.</summary>
    public Outbox<WindowResult>? Windows { get; }

    /// <summary>
    /// This node's inserting side, and the publisher's singleton manager. <paramref name="fenced"/>
    /// completes, naming what, when a publisher here finds another publisher of the job took over.
    /// </summary>
    public static NodeOutboxes Start(
        ActorSystem system,
        FraudSettings settings,
        NodeStores stores,
        IProducer<byte[]?, byte[]> producer,
        string owner,
        Action<Alert> raised,
        Action<WindowResult>? onWindow,
        TaskCompletionSource<string> fenced,
        ILoggingAdapter log)
    {
        // The outboxes' own clients (reading the topics' tails) get the security settings too.
        var kafka = settings.KafkaCommon;

        // A bell per table wakes the publisher when it runs here, instead of its 200 ms poll.
        var alertBell = new OutboxBell();
        var windowBell = new OutboxBell();
        var alerts = new Outbox<Alert>(stores.Alerts, producer, settings.Bootstrap, log, raised, alertBell, kafka);
        var windowStore = stores.Windows;
        var windows = windowStore is null ? null : new Outbox<WindowResult>(windowStore, producer, settings.Bootstrap, log, onWindow, windowBell, kafka);

        // The publisher of one outbox, fenced by the job's epoch of that outbox in the store.
        IOutbox Publisher<T>(IOutboxTable<T> table, OutboxBell bell, string name, string what)
        {
            var publisher = new Outbox<T>(table, producer, settings.Bootstrap, log, bell: bell, kafka: kafka, transactionalId: stores.TransactionalId(name), fence: stores.OutboxFenceOf(name, owner));
            publisher.Fenced.ContinueWith(_ => fenced.TrySetResult($"the {what} outbox's publisher was replaced by another publisher of this job"), TaskScheduler.Default);
            return publisher;
        }

        IReadOnlyList<IOutbox> Publishers() => windowStore is null
            ? [Publisher(stores.Alerts, alertBell, "alerts", "alert")]
            : [Publisher(stores.Alerts, alertBell, "alerts", "alert"), Publisher(windowStore, windowBell, "windows", "window")];

        system.ActorOf(
            ClusterSingletonManager.Props(
                OutboxSingleton.PropsFor(Publishers),
                DrainOutbox.Instance,
                ClusterSingletonManagerSettings.Create(system)),
            ManagerName);
        return new NodeOutboxes(system, alerts, windows);
    }

    /// <summary>
    /// When the cluster's outbox publisher runs here, it publishes what is left before the node
    /// leaves (stop and cancel alike: the rows are in the table either way); the next oldest
    /// node's publisher takes over after. Elsewhere there is nothing to drain.
    /// </summary>
    public async Task DrainAsync(StopMode mode)
    {
        if (_system.WhenTerminated.IsCompleted)
        {
            // Downed: the system and its publisher are gone; the next publisher reads the tails.
            return;
        }

        IActorRef publisher;
        try
        {
            // Not here: answered at once. Here: answered once its busy actor system gets to it,
            // which on a loaded machine took longer than a second, and the drain was skipped,
            // leaving the last run's rows for the next publisher.
            publisher = await _system.ActorSelection($"/user/{ManagerName}/singleton").ResolveOne(ResolveTimeout).ConfigureAwait(false);
        }
        catch (ActorNotFoundException)
        {
            return;
        }

        try
        {
            await publisher.Ask<OutboxDrained>(DrainOutbox.Instance, DrainTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            Logging.GetLogger(_system, "fraud").Warning("Outbox not drained within {0} ({1}): unpublished rows stay in the tables for the next publisher", DrainTimeout, mode);
        }
    }
}
