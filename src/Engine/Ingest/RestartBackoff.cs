namespace FraudActors.Engine.Ingest;

/// <summary>
/// The pause before each restart of the ingest stream: doubling from <paramref name="min"/> to
/// <paramref name="max"/> while runs keep failing, so an outage (a database or Kafka down) is
/// retried a few times a minute at most, never in a tight loop; and back to <paramref name="min"/>
/// after a healthy run (one that lasted more than twice <paramref name="max"/>), so a fault
/// hours after the last one is retried quickly again.
/// </summary>
public sealed class RestartBackoff
{
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public RestartBackoff(TimeSpan min, TimeSpan max)
    {
        _min = min;
        _max = max;
        _next = min;
    }

    /// <summary>Restarts so far.</summary>
    public int Restarts { get; private set; }

    /// <summary>The pause before the next restart, given how long the run that just failed lasted.</summary>
    public TimeSpan Next(TimeSpan ranFor)
    {
        if (ranFor > 2 * _max)
        {
            Reset();
        }

        return Next();
    }

    /// <summary>The pause before the next attempt: the last one doubled, at most the maximum.</summary>
    public TimeSpan Next()
    {
        var delay = _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, _max.Ticks));
        Restarts++;
        return delay;
    }

    /// <summary>An attempt succeeded: the next failure is retried after the minimum again.</summary>
    public void Reset() => _next = _min;
}
