using FraudActors.Engine.Ingest;

namespace FraudActors.Service.Http;

/// <summary>
/// Records in and out per second over the last few seconds: samples the pipeline's running
/// totals once a second and divides the difference across the window.
/// </summary>
public sealed class RateMeter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    private readonly PipelineMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private readonly Queue<(DateTimeOffset At, long In, long Out)> _samples = new();
    private readonly ITimer _timer;

    public RateMeter(PipelineMetrics metrics, TimeProvider? clock = null)
    {
        _metrics = metrics;
        _clock = clock ?? TimeProvider.System;
        Sample();
        _timer = _clock.CreateTimer(_ => Sample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>(records in per second, alerts and window results out per second).</summary>
    public (double In, double Out) Rates()
    {
        Sample();
        lock (_gate)
        {
            var (first, last) = (_samples.Peek(), _samples.Last());
            var seconds = (last.At - first.At).TotalSeconds;
            return seconds <= 0.001 ? (0, 0) : ((last.In - first.In) / seconds, (last.Out - first.Out) / seconds);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var now = _clock.GetUtcNow();
        var sample = (now, _metrics.RecordsIn, _metrics.Alerts + _metrics.WindowResults);
        lock (_gate)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > 2 && now - _samples.Peek().At > Window)
            {
                _samples.Dequeue();
            }
        }
    }
}
