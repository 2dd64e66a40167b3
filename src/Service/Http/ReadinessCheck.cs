using System.Text.Json;
using FraudActors.Service.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FraudActors.Service.Http;

/// <summary>
/// The node's readiness as an ASP.NET health check: healthy when the job runs, Kafka and the
/// database answer and partitions are assigned; otherwise unhealthy, listing what is missing.
/// <c>GET /readyz</c> writes it as <c>{"status":"ready"|"not ready","missing":[…]}</c>, 200 or 503.
/// </summary>
public sealed class ReadinessCheck(NodeQueries queries) : IHealthCheck
{
    public const string Name = "node";

    public const string Tag = "ready";

    private const string MissingKey = "missing";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>How <c>/readyz</c> runs the check and writes its answer.</summary>
    public static HealthCheckOptions Options { get; } = new()
    {
        Predicate = check => check.Tags.Contains(Tag),
        ResponseWriter = WriteAsync,
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var missing = await queries.NotReadyAsync(cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object> { [MissingKey] = missing };
        return missing.Count == 0
            ? HealthCheckResult.Healthy(data: data)
            : HealthCheckResult.Unhealthy(string.Join("; ", missing), data: data);
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var missing = report.Entries.Values
            .SelectMany(e => e.Data.TryGetValue(MissingKey, out var m) && m is IReadOnlyList<string> list ? list : e.Exception is { } x ? [x.Message] : [])
            .ToList();
        var readiness = report.Status == HealthStatus.Healthy ? new Readiness("ready", missing) : new Readiness("not ready", missing);
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(readiness, Json));
    }
}
