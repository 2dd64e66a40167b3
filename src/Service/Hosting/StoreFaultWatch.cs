using Akka.Actor;
using Akka.Event;
using FraudActors.Engine.Storage;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Watches the node's log for a SQLite store that cannot be written (disk full, permission denied)
/// wherever it surfaces — a partition journal's persist, the outbox, the checkpoint history — and
/// completes <see cref="Fault"/> with the operator's message. Checkpoints would otherwise fail and
/// be retried for ever without a word of why: the node stops instead, and a restart resumes from
/// the last checkpoint once the disk has room or the file is writable.
/// </summary>
public static class StoreFaultWatch
{
    /// <summary>Starts watching <paramref name="system"/>'s warnings and errors; the task completes on the first fault.</summary>
    public static Task<string> Start(ActorSystem system, string connectionString)
    {
        var fault = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = system.ActorOf(Props.Create(() => new Watcher(connectionString, fault)), "store-fault-watch");
        system.EventStream.Subscribe(watch, typeof(Warning));
        system.EventStream.Subscribe(watch, typeof(Error));
        return fault.Task;
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(string connectionString, TaskCompletionSource<string> fault)
        {
            Receive<LogEvent>(e =>
            {
                var found = (e.Cause is { } cause ? SqliteFaults.Describe(connectionString, cause) : null)
                    ?? SqliteFaults.DescribeText(connectionString, e.Message?.ToString() ?? string.Empty);
                if (found is not null)
                {
                    fault.TrySetResult(found);
                }
            });
        }
    }
}
