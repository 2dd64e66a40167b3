namespace FraudActors.Tooling.Drill;

/// <summary>What a service is busy with when the drill kills it; the kinds take turns from kill to kill.</summary>
public enum KillMoment
{
    Processing,
    Checkpoint,
    AlertPublishing,
}

/// <summary>Waits for a kind of <see cref="KillMoment"/> in a running service's output.</summary>
public static class KillMoments
{
    private static readonly TimeSpan MomentTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The kind of the <paramref name="kill"/>th kill (from 0).</summary>
    public static KillMoment For(int kill) => (KillMoment)(kill % 3);

    /// <summary>Once the service is past its target, waits for the kind of moment the kill should land in; says where it landed.</summary>
    public static async Task<string> AwaitAsync(ServiceProcess service, KillMoment moment, CancellationToken stop)
    {
        var errors = service.StandardError.Count();
        var outputs = service.StandardOutput.Count();
        Func<bool> arrived = moment switch
        {
            KillMoment.Checkpoint => () => service.StandardError.Skip(errors).Any(l => l.Contains("Checkpoint ", StringComparison.Ordinal) && l.Contains(" triggered", StringComparison.Ordinal)),
            KillMoment.AlertPublishing => () => service.StandardOutput.Skip(outputs).Any(l => l.StartsWith("ALERT ", StringComparison.Ordinal)),
            _ => () => true,
        };
        var deadline = DateTime.UtcNow + MomentTimeout;
        while (!arrived() && !service.HasExited)
        {
            if (DateTime.UtcNow > deadline)
            {
                return $"while processing (no {(moment == KillMoment.Checkpoint ? "checkpoint" : "alert published")} within {MomentTimeout.TotalSeconds:0} s)";
            }

            await Task.Delay(1, stop).ConfigureAwait(false);
        }

        return Describe(moment) switch
        {
            "processing" => "while processing",
            var kind => $"during {kind}",
        };
    }

    private static string Describe(KillMoment moment) => moment switch
    {
        KillMoment.Checkpoint => "a checkpoint",
        KillMoment.AlertPublishing => "alert publishing",
        _ => "processing",
    };
}
