namespace FraudActors.Engine.Ingest;

/// <param name="Parallelism">
/// Records in flight at once: the bound that makes <c>Tell</c>-style sharding back-pressured.
/// They travel in up to <see cref="GroupsInFlight"/> groups: records that arrive while the
/// users are busy are sent together and answered together (a lone record goes alone, at once).
/// </param>
/// <param name="AskTimeout">How long a user actor may take to apply a record before the stream fails and restarts.</param>
public sealed record PipelineSettings(int Parallelism, TimeSpan AskTimeout)
{
    public static PipelineSettings Default { get; } = new(256, TimeSpan.FromSeconds(30));

    /// <summary>Groups of records in flight at once.</summary>
    public int GroupsInFlight => Math.Min(4, Parallelism);

    /// <summary>The most records in one group.</summary>
    public int GroupSize => Math.Max(1, Parallelism / GroupsInFlight);
}
