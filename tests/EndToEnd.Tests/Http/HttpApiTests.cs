using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Http;

/// <summary>
/// The HTTP API of a real <c>fraud run</c> process (dev broker, seeded stream, PostgreSQL store):
/// every route's status and JSON shape, problem details for bad ids, values, routes and methods,
/// admin calls refused without the token, and PATCH stop ending the process.
/// </summary>
public sealed partial class HttpApiTests(HttpApiTests.SeededBroker broker) : IClassFixture<HttpApiTests.SeededBroker>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Token = "test-admin-token";

    [Fact]
    public async Task Every_route_answers_with_its_shape_and_PATCH_stop_with_the_token_ends_the_process()
    {
        const string group = "http-api";
        var connection = await TestPostgres.CreateDatabaseAsync("http_api");
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = group, ["FRAUD_ADMIN_TOKEN"] = Token },
            "run", "--bootstrap", broker.Bootstrap, "--store", "postgres", "--connection", connection, "--http", "127.0.0.1:0", "--checkpoint-interval", "500ms");
        using var http = new HttpClient { BaseAddress = await AddressAsync(service) };

        // Health and readiness.
        var health = await GetJsonAsync(http, "/healthz");
        Assert.Equal("alive", health.GetProperty("status").GetString());
        await Eventually.ValueAsync(() => http.GetAsync("/readyz"), r => r.StatusCode == HttpStatusCode.OK, Timeout);

        // The whole stream read, and checkpointed up to Kafka's end offsets.
        var overview = await Eventually.ValueAsync(
            () => GetJsonAsync(http, "/overview"),
            o => o.GetProperty("records_in").GetInt64() == SeededBroker.Count && o.GetProperty("alerts").GetInt64() > 0,
            Timeout);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", overview.GetProperty("node").GetString());
        Assert.StartsWith("akka.tcp://", Assert.Single(overview.GetProperty("cluster_members").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.True(overview.GetProperty("uptime_s").GetDouble() > 0);
        Assert.Equal("running", overview.GetProperty("job_state").GetString());
        Assert.True(overview.GetProperty("records_in_per_s").GetDouble() >= 0);
        Assert.True(overview.GetProperty("records_out_per_s").GetDouble() >= 0);
        foreach (var count in new[] { "dlq", "late", "window_results" })
        {
            Assert.True(overview.GetProperty(count).GetInt64() >= 0, count);
        }

        var partitions = await Eventually.ValueAsync(
            () => GetJsonAsync(http, "/partitions"),
            p => p.GetProperty("partitions").EnumerateArray().All(x => x.GetProperty("lag").ValueKind == JsonValueKind.Number && x.GetProperty("lag").GetInt64() == 0),
            Timeout);
        var assigned = partitions.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(3, assigned.Count);
        Assert.Equal(SeededBroker.Count, assigned.Sum(p => p.GetProperty("end_offset").GetInt64()));
        foreach (var p in assigned)
        {
            Assert.Equal("transactions", p.GetProperty("topic").GetString());
            Assert.Equal(p.GetProperty("end_offset").GetInt64(), p.GetProperty("committed_offset").GetInt64());
            Assert.Equal(p.GetProperty("end_offset").GetInt64(), p.GetProperty("current_offset").GetInt64());
            Assert.True(DateTimeOffset.TryParse(p.GetProperty("watermark").GetString(), out _));
        }

        // The job, its detail and its checkpoints.
        var job = Assert.Single((await GetJsonAsync(http, "/jobs")).GetProperty("jobs").EnumerateArray());
        var id = job.GetProperty("id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(group, job.GetProperty("name").GetString());
        Assert.Equal("running", job.GetProperty("state").GetString());
        Assert.True(DateTimeOffset.TryParse(job.GetProperty("started").GetString(), out _));

        var detail = await GetJsonAsync(http, $"/jobs/{id}");
        Assert.Equal(id, detail.GetProperty("id").GetString());
        Assert.True(detail.GetProperty("checkpoints").GetProperty("completed").GetInt64() >= 3);
        Assert.Equal(3, detail.GetProperty("partitions").GetArrayLength());

        var checkpoints = await GetJsonAsync(http, $"/jobs/{id}/checkpoints");
        var counts = checkpoints.GetProperty("counts");
        Assert.True(counts.GetProperty("completed").GetInt64() >= 3);
        Assert.Equal(0, counts.GetProperty("failed").GetInt64());
        Assert.True(counts.GetProperty("in_progress").GetInt32() >= 0);
        Assert.Equal(JsonValueKind.Null, checkpoints.GetProperty("latest").GetProperty("failed").ValueKind);
        var latest = checkpoints.GetProperty("latest").GetProperty("completed");
        var history = checkpoints.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(latest.GetProperty("epoch").GetInt64(), history[0].GetProperty("epoch").GetInt64());
        Assert.Equal(history.Select(h => h.GetProperty("epoch").GetInt64()).OrderDescending(), history.Select(h => h.GetProperty("epoch").GetInt64()));
        foreach (var field in new[] { "partition", "duration_ms", "users", "bytes", "next_offset" })
        {
            Assert.Equal(JsonValueKind.Number, latest.GetProperty(field).ValueKind);
        }

        Assert.Equal("completed", latest.GetProperty("status").GetString());
        Assert.True(DateTimeOffset.TryParse(latest.GetProperty("started").GetString(), out _));
        Assert.Equal(JsonValueKind.Null, latest.GetProperty("error").ValueKind);

        // A user's live state.
        var user = await GetJsonAsync(http, "/users/u901");
        Assert.Equal("u901", user.GetProperty("user_id").GetString());
        Assert.True(user.GetProperty("transaction_count").GetInt64() > 5);
        Assert.True(user.GetProperty("last_applied_offset").GetInt64() >= 0);
        Assert.InRange(user.GetProperty("partition").GetInt32(), 0, 2);
        Assert.True(user.GetProperty("rules").TryGetProperty("sliding-velocity", out _));
        Assert.Equal(JsonValueKind.Array, user.GetProperty("timers").ValueKind);
        var windows = user.GetProperty("windows");
        Assert.NotEmpty(windows.GetProperty("tumbling").EnumerateArray());
        Assert.NotEmpty(windows.GetProperty("sessions").EnumerateArray());
        Assert.Equal(JsonValueKind.Array, windows.GetProperty("sliding").ValueKind);
        Assert.Equal(JsonValueKind.Number, windows.GetProperty("count").GetProperty("count").ValueKind);
        var profile = user.GetProperty("profile");
        Assert.Equal(user.GetProperty("transaction_count").GetInt64(), profile.GetProperty("amounts").GetProperty("count").GetInt64());
        Assert.NotEmpty(profile.GetProperty("merchants").EnumerateObject());
        Assert.True(DateTimeOffset.TryParse(profile.GetProperty("last_seen").GetString(), out _));
        await AssertProblemAsync(await http.GetAsync("/users/nobody-at-all"), HttpStatusCode.NotFound);

        // Recent alerts, newest first, as on the topic.
        var alerts = (await GetJsonAsync(http, "/alerts")).GetProperty("alerts").EnumerateArray().ToList();
        Assert.InRange(alerts.Count, 1, 50);
        Assert.All(alerts, a => Assert.StartsWith("sliding-velocity:", a.GetProperty("alert_id").GetString(), StringComparison.Ordinal));
        var mine = (await GetJsonAsync(http, "/alerts?user=u902&limit=3")).GetProperty("alerts").EnumerateArray().ToList();
        Assert.InRange(mine.Count, 1, 3);
        Assert.All(mine, a => Assert.Equal("u902", a.GetProperty("user_id").GetString()));
        foreach (var bad in new[] { "0", "1001", "ten", "-1" })
        {
            await AssertProblemAsync(await http.GetAsync($"/alerts?limit={bad}"), HttpStatusCode.BadRequest);
        }

        // Metrics.
        var metrics = await http.GetStringAsync("/metrics");
        foreach (var name in new[]
        {
            "fraud_records_in_total", "fraud_alerts_total", "fraud_dlq_records_total", "fraud_late_records_total",
            "fraud_window_results_total", "fraud_checkpoint_duration_seconds_bucket", "fraud_checkpoint_size_bytes_bucket",
            "fraud_partition_lag_records{", "fraud_active_users", "fraud_journal_write_seconds_bucket",
            "fraud_process_working_set_bytes", "fraud_gc_heap_bytes", "fraud_gc_heap_after_collection_bytes", "fraud_gc_collections_total{generation=\"0\"}", "fraud_gc_pause_seconds_total",
        })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }

        Assert.Contains($"fraud_records_in_total {SeededBroker.Count}", metrics, StringComparison.Ordinal);

        // This was the first scrape: the checkpoints counted before it are in the counter too.
        var counted = Regex.Match(metrics, "^fraud_checkpoints_total\\{status=\"completed\"\\} ([0-9.e+]+)$", RegexOptions.Multiline);
        Assert.True(counted.Success, metrics);
        Assert.True(double.Parse(counted.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= counts.GetProperty("completed").GetInt64(), metrics);

        // Unknown ids, routes and methods.
        await AssertProblemAsync(await http.GetAsync("/jobs/0123"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await http.GetAsync("/jobs/0123/checkpoints"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await http.GetAsync("/no-such-route"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await http.PostAsync($"/jobs/{id}", null), HttpStatusCode.MethodNotAllowed);
        await AssertProblemAsync(await http.DeleteAsync("/overview"), HttpStatusCode.MethodNotAllowed);

        // Admin: refused without the right token; then stop.
        await AssertProblemAsync(await http.PatchAsync($"/jobs/{id}?mode=stop", null), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await PatchAsync(http, $"/jobs/{id}?mode=stop", "wrong-token"), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await PatchAsync(http, $"/jobs/0123?mode=stop", Token), HttpStatusCode.NotFound);
        await AssertProblemAsync(await PatchAsync(http, $"/jobs/{id}?mode=halt", Token), HttpStatusCode.BadRequest);
        Assert.Equal("running", (await GetJsonAsync(http, $"/jobs/{id}")).GetProperty("state").GetString());

        var stopped = await PatchAsync(http, $"/jobs/{id}?mode=stop", Token);
        Assert.Equal(HttpStatusCode.Accepted, stopped.StatusCode);
        var stopping = JsonDocument.Parse(await stopped.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(id, stopping.GetProperty("id").GetString());
        Assert.Equal("stopping", stopping.GetProperty("state").GetString());
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));
        Assert.Contains("fraud: stop requested over HTTP", service.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, service.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_configured_token_admin_calls_are_forbidden_and_the_dashboard_is_served()
    {
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = "http-api-no-token" },
            "run", "--bootstrap", broker.Bootstrap, "--store", "memory", "--http", "127.0.0.1:0");
        using var http = new HttpClient { BaseAddress = await AddressAsync(service) };
        var id = (await GetJsonAsync(http, "/jobs")).GetProperty("jobs")[0].GetProperty("id").GetString()!;

        var refused = await PatchAsync(http, $"/jobs/{id}?mode=stop", "any-token");
        var problem = await AssertProblemAsync(refused, HttpStatusCode.Forbidden);
        Assert.Contains("no admin token configured", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(await http.PatchAsync($"/jobs/{id}?mode=cancel", null), HttpStatusCode.Forbidden);
        Assert.Equal("running", (await GetJsonAsync(http, $"/jobs/{id}")).GetProperty("state").GetString());

        // The dashboard's page (or, without its files, a note saying so).
        var root = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.StartsWith("text/", root.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);

        service.Interrupt();
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));
    }

    private static async Task<Uri> AddressAsync(FraudProcess service)
    {
        await Eventually.TrueAsync(
            () => AddressLine().IsMatch(service.StandardError) || service.HasExited,
            Timeout,
            () => $"no HTTP address logged.\nstderr:\n{service.StandardErrorTail()}");
        var match = AddressLine().Match(service.StandardError);
        Assert.True(match.Success, $"fraud exited before its HTTP API started.\nstderr:\n{service.StandardErrorTail()}");
        return new Uri(match.Groups[1].Value);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static Task<HttpResponseMessage> PatchAsync(HttpClient http, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    /// <summary>RFC 7807: the status, as problem+json with status, title and detail.</summary>
    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    [GeneratedRegex(@"HTTP API and dashboard on (http://\S+/)")]
    private static partial Regex AddressLine();

    /// <summary>The dev broker with a seeded stream already on it (u901 and u902 burst and alert).</summary>
    public sealed class SeededBroker : IAsyncLifetime
    {
        public const int Count = 3000;

        private FraudProcess? _broker;

        public string Bootstrap { get; private set; } = string.Empty;

        public async Task InitializeAsync()
        {
            _broker = FraudProcess.Start("broker");
            Bootstrap = (await _broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
            var (code, producer) = await FraudProcess.RunAsync(
                Timeout, "produce", "--bootstrap", Bootstrap, "--seed", "7", "--count", $"{Count}", "--users", "500", "--max-speed");
            Assert.True(code == 0, producer.StandardError);
        }

        public async Task DisposeAsync()
        {
            if (_broker is not null)
            {
                await _broker.DisposeAsync();
            }
        }
    }
}
