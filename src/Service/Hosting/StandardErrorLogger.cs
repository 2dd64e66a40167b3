using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Akka's log goes to standard error, so standard output carries only what a user pipes on:
/// the ALERT lines, the broker's <c>bootstrap=</c> line, the alerts consumer's output.
/// </summary>
public sealed class StandardErrorLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine($"[{e.LogLevel().ToString().Replace("Level", string.Empty, StringComparison.Ordinal).ToUpperInvariant()}] {e.Timestamp:HH:mm:ss.fff} {e.LogSource}: {e.Message}{(e.Cause is null ? string.Empty : " " + e.Cause)}"));
    }
}
