namespace FraudActors.Service.Hosting;

/// <summary>How an operator asked the job to end (<c>PATCH /jobs/{id}?mode=</c>).</summary>
public enum StopMode
{
    /// <summary>Flink's stop-with-savepoint: a final checkpoint, then stop.</summary>
    Stop,

    /// <summary>Flink's cancel: stop reading and stop without a final checkpoint; a restart resumes from the last one.</summary>
    Cancel,
}

/// <summary>
/// The node's one job, as Flink's REST API lists jobs: a stable id for the process's lifetime,
/// the consumer group as its name, and its state. Safe to use from any thread.
/// </summary>
public sealed class FraudJob(string name)
{
    public const string Running = "running";
    public const string Stopping = "stopping";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string Finished = "finished";

    private readonly TaskCompletionSource<StopMode> _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string _state = Running;

    public string Id { get; } = Guid.NewGuid().ToString("N");

    public string Name { get; } = name;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public string State => _state;

    /// <summary>Completes when an operator asks the job to end; the command that runs the node then stops it.</summary>
    public Task<StopMode> StopRequested => _stopRequested.Task;

    /// <summary>Asks the job to end; false when it is already ending (the first request wins).</summary>
    public bool RequestStop(StopMode mode)
    {
        if (!_stopRequested.TrySetResult(mode))
        {
            return false;
        }

        _state = Stopping;
        return true;
    }

    public void MarkStopping() => _state = Stopping;

    public void MarkEnded(StopMode mode) => _state = mode == StopMode.Cancel ? Cancelled : Finished;

    public void MarkFailed() => _state = Failed;
}
