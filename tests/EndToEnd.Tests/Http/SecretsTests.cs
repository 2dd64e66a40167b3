using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using FraudActors.Testkit;
using Npgsql;

namespace FraudActors.EndToEnd.Tests.Http;

/// <summary>
/// Issue 8 (and 18): the admin and read tokens, the database password and Kafka SASL/TLS secrets never appear in
/// the node's logs (standard output and error, from start to stop) nor in any route of its HTTP
/// API. A real <c>fraud run</c> gets all of them, does its work and is stopped with the token.
/// </summary>
public sealed partial class SecretsTests(HttpApiTests.SeededBroker broker) : IClassFixture<HttpApiTests.SeededBroker>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private const string AdminToken = "admin-token-7f3b9c1e";
    private const string ReadToken = "read-token-0c5e2a9d";
    private const string DatabasePassword = "pg-password-5d2a8e4f";
    private const string SaslPassword = "sasl-password-9c4e1b7a";
    private const string SslKeyPassword = "ssl-key-password-2b8f6d3c";
    private const string ProducerSecret = "oauth-secret-6a1d9e2f";

    [Fact]
    public async Task No_secret_appears_in_the_logs_or_the_HTTP_API()
    {
        // The test server trusts local connections, so Npgsql's password goes unused (the node
        // reaching readiness on this connection string proves it is accepted).
        var connection = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync("secrets")) { Password = DatabasePassword }.ConnectionString;
        Assert.Contains(DatabasePassword, connection, StringComparison.Ordinal);

        // SASL and TLS secrets as an operator sets them; the dev broker speaks plaintext, so
        // librdkafka holds them without using them.
        var config = Path.GetTempFileName();
        await File.WriteAllTextAsync(config, $$"""
            fraud.kafka.common { "sasl.mechanism" = PLAIN, "sasl.username" = fraud, "sasl.password" = "{{SaslPassword}}" }
            fraud.kafka.consumer { "ssl.key.password" = "{{SslKeyPassword}}" }
            fraud.kafka.producer { "sasl.oauthbearer.client.secret" = "{{ProducerSecret}}" }
            """);
        string[] secrets = [AdminToken, ReadToken, DatabasePassword, SaslPassword, SslKeyPassword, ProducerSecret];

        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = "secrets", ["FRAUD_ADMIN_TOKEN"] = AdminToken, ["FRAUD_READ_TOKEN"] = ReadToken },
            "run", "--bootstrap", broker.Bootstrap, "--store", "postgres", "--connection", connection, "--config", config, "--checkpoint-interval", "500ms");
        using var http = new HttpClient { BaseAddress = await AddressAsync(service) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
        await Eventually.ValueAsync(() => http.GetAsync("/readyz"), r => r.StatusCode == HttpStatusCode.OK, Timeout);
        await Eventually.ValueAsync(
            () => http.GetStringAsync("/overview"),
            o => JsonDocument.Parse(o).RootElement.GetProperty("records_in").GetInt64() == HttpApiTests.SeededBroker.Count,
            Timeout);

        var id = JsonDocument.Parse(await http.GetStringAsync("/jobs")).RootElement.GetProperty("jobs")[0].GetProperty("id").GetString()!;
        foreach (var path in new[] { "/", "/overview", "/jobs", $"/jobs/{id}", $"/jobs/{id}/checkpoints", "/partitions", "/alerts", "/users/u901", "/metrics", "/healthz", "/readyz" })
        {
            var body = await http.GetStringAsync(path);
            Assert.All(secrets, secret => Assert.DoesNotContain(secret, body, StringComparison.Ordinal));
        }

        // A refused admin call does not echo what it was given, nor the token it expected.
        var wrong = new HttpRequestMessage(HttpMethod.Patch, $"/jobs/{id}?mode=stop") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } };
        var refused = await http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain(AdminToken, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var stop = new HttpRequestMessage(HttpMethod.Patch, $"/jobs/{id}?mode=stop") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", AdminToken) } };
        Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(stop)).StatusCode);
        Assert.Equal(0, await service.WaitForExitAsync(Timeout));

        var logs = service.StandardError + "\n" + string.Join('\n', service.StandardOutput);
        Assert.Contains("fraud: stopped cleanly", logs, StringComparison.Ordinal);
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, logs, StringComparison.Ordinal));
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

    [GeneratedRegex(@"HTTP API and dashboard on (http://\S+/)")]
    private static partial Regex AddressLine();
}
