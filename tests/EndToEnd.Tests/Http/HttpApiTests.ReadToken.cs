using System.Net;
using System.Net.Http.Headers;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Http;

/// <summary>Issue 18: with a read token, every route but the probes needs it or the admin token; the dashboard's page still loads to ask for it.</summary>
public sealed partial class HttpApiTests
{
    [Fact]
    public async Task With_a_read_token_every_route_but_the_probes_needs_it_or_the_admin_token()
    {
        const string read = "read-token-3e9a71c4";
        const string admin = "admin-token-b21f08d6";
        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = "http-api-read-token", ["FRAUD_READ_TOKEN"] = read, ["FRAUD_ADMIN_TOKEN"] = admin },
            "run", "--bootstrap", broker.Bootstrap, "--store", "memory", "--http", "127.0.0.1:0");
        using var http = new HttpClient { BaseAddress = await AddressAsync(service) };
        await Eventually.ValueAsync(() => http.GetAsync("/readyz"), r => r.StatusCode == HttpStatusCode.OK, Timeout);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        var id = await Eventually.ValueAsync(
            () => SendAsync(http, HttpMethod.Get, "/jobs", read),
            r => r.StatusCode == HttpStatusCode.OK,
            Timeout);
        var jobId = System.Text.Json.JsonDocument.Parse(await id.Content.ReadAsStringAsync()).RootElement.GetProperty("jobs")[0].GetProperty("id").GetString()!;

        foreach (var path in new[] { "/overview", "/jobs", $"/jobs/{jobId}", $"/jobs/{jobId}/checkpoints", "/partitions", "/alerts", "/rules", "/users/u901", "/metrics" })
        {
            foreach (var wrong in new string?[] { null, "guess", read + "x", admin[..^1] })
            {
                var refused = await SendAsync(http, HttpMethod.Get, path, wrong);
                var problem = await AssertProblemAsync(refused, HttpStatusCode.Unauthorized);
                Assert.Contains("read token", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
                Assert.Equal("Bearer", Assert.Single(refused.Headers.WwwAuthenticate).Scheme);
            }

            foreach (var token in new[] { read, admin })
            {
                var answer = await SendAsync(http, HttpMethod.Get, path, token);
                Assert.NotEqual(HttpStatusCode.Unauthorized, answer.StatusCode);
            }
        }

        // The dashboard's files carry no data and load without a token, so that the page can ask for it.
        var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("read-token", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/app.js")).StatusCode);

        // The read token reads; only the admin token changes the job.
        await AssertProblemAsync(await SendAsync(http, HttpMethod.Patch, $"/jobs/{jobId}?mode=stop", null), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await SendAsync(http, HttpMethod.Patch, $"/jobs/{jobId}?mode=stop", read), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, HttpMethod.Patch, $"/jobs/{jobId}?mode=stop", admin)).StatusCode);
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));
        Assert.DoesNotContain(read, service.StandardError + string.Join('\n', service.StandardOutput), StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http.SendAsync(request);
    }
}
