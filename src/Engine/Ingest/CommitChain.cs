using Akka;
using Akka.Streams;
using FraudActors.Engine.Kafka;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// Checkpoints commit in stream order, one after another, but behind the stream, not in it:
/// records after a barrier go on while its users' states are written (Flink's asynchronous
/// snapshot); the engine bench measures what holding the stream for the write would cost. At
/// most one commit waits behind the one running; a failed commit fails the stream at once
/// (through <paramref name="abort"/>), so the rewind starts without waiting for the records
/// in flight, some of which may wait for a journal that is restarting.
/// </summary>
internal sealed class CommitChain(CheckpointCoordinator coordinator, IKafkaSourceControl control, string topic, SharedKillSwitch abort)
{
    private static readonly Task<NotUsed> Done = Task.FromResult(NotUsed.Instance);
    private Task _running = Task.CompletedTask;
    private Task _waiting = Task.CompletedTask;

    /// <summary>Called by the stream, in order: queues a step's commit; returns at once unless two are already queued.</summary>
    public Task<NotUsed> Enqueue(Step step)
    {
        if (_running.IsFaulted)
        {
            return Fail(_running);
        }

        if (!step.Commits)
        {
            return Done;
        }

        var previous = _running;
        _running = CommitAfterAsync(previous, step);
        var backlog = _waiting;
        _waiting = previous;
        return backlog.IsCompleted ? Done : ThenDone(backlog);
    }

    /// <summary>The run's end: the stream's, then every queued commit's (the stream's failure first).</summary>
    public async Task AfterAsync(Task streamed)
    {
        try
        {
            await streamed.ConfigureAwait(false);
        }
        catch
        {
            await _running.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        await _running.ConfigureAwait(false);
    }

    private static async Task<NotUsed> ThenDone(Task task)
    {
        await task.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        return NotUsed.Instance;
    }

    private static async Task<NotUsed> Fail(Task failed)
    {
        await failed.ConfigureAwait(false);
        return NotUsed.Instance;
    }

    private async Task CommitAfterAsync(Task previous, Step step)
    {
        try
        {
            await previous.ConfigureAwait(false);
            await step.CommitAsync(coordinator, control, topic).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            abort.Abort(e);
            throw;
        }
    }
}
