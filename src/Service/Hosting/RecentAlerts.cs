using FraudActors.Messages.Alerts;

namespace FraudActors.Service.Hosting;

/// <summary>The node's most recent alerts, newest first on reading, for <c>GET /alerts</c>; bounded.</summary>
public sealed class RecentAlerts(int capacity = 1000)
{
    private readonly object _gate = new();
    private readonly Queue<Alert> _alerts = new();

    public int Capacity { get; } = capacity;

    public void Add(Alert alert)
    {
        lock (_gate)
        {
            _alerts.Enqueue(alert);
            while (_alerts.Count > Capacity)
            {
                _alerts.Dequeue();
            }
        }
    }

    /// <summary>Newest first; only <paramref name="userId"/>'s when given.</summary>
    public IReadOnlyList<Alert> Newest(string? userId, int limit)
    {
        lock (_gate)
        {
            return [.. _alerts.Reverse().Where(a => userId is null || a.UserId == userId).Take(limit)];
        }
    }
}
