namespace FraudActors.Engine.Outbox;

/// <summary>
/// An outbox table's publishing side: started where the cluster's one publisher runs
/// (<see cref="OutboxSingleton"/>), drained by <see cref="IAsyncDisposable.DisposeAsync"/>
/// when it hands over, cancelled when its node was downed.
/// </summary>
public interface IOutbox : IAsyncDisposable
{
    /// <summary>Creates the table; the background loop then reconciles with the topics and publishes.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops publishing at once; what is left stays in the table for the next publisher.</summary>
    Task CancelAsync();
}
