using Akka.Actor;
using Akka.Cluster;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Waits for this node to be Up in the cluster it joins, or says why it never will: Akka's
/// remoting stops the actor system itself when this node's TLS handshake is refused (another CA,
/// a plain-TCP peer), and a wait on Up alone would then last forever.
/// </summary>
internal static class MemberUp
{
    /// <summary>A task that completes when this node is Up; register it before joining.</summary>
    public static Task Register(ActorSystem system)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        return up.Task;
    }

    /// <summary>
    /// Completes when <paramref name="up"/> (the join, or Up) does; throws when the actor system
    /// stops first (a TLS refusal: exit 2, naming the TLS settings). Akka's own join tasks do not
    /// end when the system stops under them.
    /// </summary>
    public static async Task WaitAsync(ActorSystem system, Task up, CancellationToken cancellationToken)
    {
        Task first;
        try
        {
            first = await Task.WhenAny(up, system.WhenTerminated).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (system.WhenTerminated.IsCompleted)
        {
            // The host cancels its start when the actor system stops (Akka.Hosting stops the
            // application then): the stop is the answer, not the cancellation.
            first = system.WhenTerminated;
        }

        if (first == up)
        {
            await up.ConfigureAwait(false); // a timeout of the caller's throws here
            return;
        }

        var reason = CoordinatedShutdown.Get(system).ShutdownReason;
        if (reason?.GetType().Name == "TlsHandshakeFailureReason")
        {
            throw new Configuration.ConfigurationException(
                $"{Configuration.SettingKeys.NodeTlsCertificate.Option}/{Configuration.SettingKeys.NodeTlsCa.Option}: the TLS handshake with the cluster was refused, so this node stopped before joining (the log above says which side refused): the nodes of one cluster need certificates of one CA, and all of them TLS or none");
        }

        throw new InvalidOperationException($"the actor system stopped before this node joined the cluster ({reason?.GetType().Name ?? "no reason given"}); the log above says why");
    }
}
