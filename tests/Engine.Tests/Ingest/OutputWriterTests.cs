using FraudActors.Engine.Ingest;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Tests.Ingest;

/// <summary>
/// The record path's outputs written behind it: a flush waits for every alert added before it,
/// writes take what piled up meanwhile in one call, and a failed write fails the flushes and
/// tells the stream at once.
/// </summary>
public sealed class OutputWriterTests
{
    [Fact]
    public async Task A_flush_waits_for_every_output_added_before_it_and_later_ones_go_in_one_write()
    {
        var sink = new GatedSink();
        var writer = new OutputWriter(sink, null, new PipelineMetrics(), _ => throw new InvalidOperationException("no write should fail"));
        writer.Add([Alert("a1")], null);
        var first = await sink.Writes.Reader.ReadAsync();
        writer.Add([Alert("a2")], null);
        writer.Add([Alert("a3"), Alert("a4")], null);
        var flushed = writer.FlushAsync();

        Assert.Equal(["a1"], first.Alerts.Select(a => a.AlertId));
        Assert.False(flushed.IsCompleted);
        first.Done.SetResult();
        var second = await sink.Writes.Reader.ReadAsync();
        Assert.Equal(["a2", "a3", "a4"], second.Alerts.Select(a => a.AlertId));
        Assert.False(flushed.IsCompleted);
        second.Done.SetResult();
        await flushed;
        Assert.True(writer.FlushAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_failed_write_fails_the_flush_and_tells_the_stream()
    {
        var sink = new GatedSink();
        var told = new TaskCompletionSource<Exception>();
        var writer = new OutputWriter(sink, null, new PipelineMetrics(), e => told.TrySetResult(e));
        writer.Add([Alert("a1")], null);
        var flushed = writer.FlushAsync();
        (await sink.Writes.Reader.ReadAsync()).Done.SetException(new InvalidOperationException("database gone"));

        Assert.Equal("database gone", (await Assert.ThrowsAsync<InvalidOperationException>(() => flushed)).Message);
        Assert.Equal("database gone", (await told.Task).Message);
        writer.Add([Alert("a2")], null);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.FlushAsync());
    }

    private static Alert Alert(string id) => new(id, "sliding-velocity", "u1", 6, 60_000, 10m, DateTimeOffset.UnixEpoch, 0, 0, DateTimeOffset.UnixEpoch);

    /// <summary>An alert sink whose every write waits until the test completes it.</summary>
    private sealed class GatedSink : IOutputSink<Alert>
    {
        public System.Threading.Channels.Channel<(IReadOnlyList<Alert> Alerts, TaskCompletionSource Done)> Writes { get; } =
            System.Threading.Channels.Channel.CreateUnbounded<(IReadOnlyList<Alert>, TaskCompletionSource)>();

        public Task PublishAsync(Alert alert, CancellationToken cancellationToken) => PublishAsync([alert], cancellationToken);

        public Task PublishAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Writes.Writer.TryWrite(([.. alerts], done));
            return done.Task;
        }
    }
}
