using System.Net;
using System.Text;
using System.Text.Json;
using FraudActors.Testkit;

namespace FraudActors.Service.Tests.Rules;

/// <summary>
/// The rules' routes of a running node (docs/design.md, "Dynamic rules"): <c>GET /rules</c>
/// behind the read token with its shape; <c>PUT /rules/{name}</c> behind the admin token,
/// refusing what the configuration would refuse with a 400 naming the key, and publishing the
/// normalized value to the rules topic, which the node then reads back as the rule's new
/// version; <c>DELETE /rules/{name}</c> publishing a tombstone.
/// </summary>
[Collection(RulesNodeCollection.Name)]
public sealed class RulesApiTests(RulesNode node)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Get_rules_needs_the_read_token_and_shows_the_desired_rules_and_each_partition_read_here()
    {
        using var anonymous = node.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("rules")).StatusCode);

        using var reader = node.Client(RulesNode.ReadToken);
        var rules = await Eventually.ValueAsync(() => GetRulesAsync(reader), r => r.GetProperty("partitions").GetArrayLength() == 1, Timeout);

        var desired = rules.GetProperty("desired").EnumerateArray().ToList();
        Assert.Equal(["sliding-velocity", "small-then-large", "timer-velocity"], desired.Select(r => r.GetProperty("rule").GetString()));
        foreach (var rule in desired)
        {
            AssertRuleShape(rule);
        }

        var window = desired[0].GetProperty("params").GetProperty("window");
        Assert.Equal(JsonValueKind.String, window.ValueKind);

        var partition = Assert.Single(rules.GetProperty("partitions").EnumerateArray());
        Assert.Equal(0, partition.GetProperty("partition").GetInt32());
        Assert.Contains(partition.GetProperty("recorded").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        var inForce = partition.GetProperty("rules").EnumerateArray().ToList();
        Assert.Equal(desired.Select(r => r.GetProperty("rule").GetString()), inForce.Select(r => r.GetProperty("rule").GetString()));
        foreach (var rule in inForce)
        {
            AssertRuleShape(rule);
            Assert.True(rule.GetProperty("since_offset").GetInt64() >= 0);
            Assert.Contains(rule.GetProperty("since_epoch").ValueKind, new[] { JsonValueKind.Number, JsonValueKind.Null });
        }

        // Not recorded while any rule in force waits for the checkpoint that records it.
        Assert.Equal(
            inForce.All(r => r.GetProperty("since_epoch").ValueKind == JsonValueKind.Number),
            partition.GetProperty("recorded").GetBoolean());
    }

    [Fact]
    public async Task Put_with_an_invalid_threshold_is_a_400_naming_params_threshold_and_publishes_nothing()
    {
        using var admin = node.Client(RulesNode.AdminToken);
        var before = RulesTopic().Count;

        var problem = await AssertBadFieldAsync(await PutAsync(admin, "sliding-velocity", """{"params":{"threshold":0}}"""), "params.threshold");
        Assert.Contains("'0' is not a positive whole number", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertBadFieldAsync(await PutAsync(admin, "sliding-velocity", """{"params":{"window":"soon"}}"""), "params.window");
        await AssertBadFieldAsync(await PutAsync(admin, "sliding-velocity", """{"params":{"treshold":3}}"""), "params.treshold");
        await AssertBadFieldAsync(await PutAsync(admin, "sliding-velocity", """{"enabled":"yes"}"""), "enabled");
        await AssertBadFieldAsync(await PutAsync(admin, "sliding-velocity", """{"rule":"timer-velocity"}"""), "rule");
        await AssertBadFieldAsync(await PutAsync(admin, "sliding-velocity", "threshold=3"), "value");

        Assert.Equal(before, RulesTopic().Count);
    }

    [Fact]
    public async Task Put_or_delete_of_an_unknown_rule_is_a_400_naming_key()
    {
        using var admin = node.Client(RulesNode.AdminToken);
        var problem = await AssertBadFieldAsync(await PutAsync(admin, "fast-spender", """{"enabled":true}"""), "key");
        Assert.Contains("no rule is called 'fast-spender'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertBadFieldAsync(await admin.DeleteAsync("rules/fast-spender"), "key");
    }

    [Fact]
    public async Task Put_and_delete_without_the_admin_token_are_refused_as_the_other_admin_calls_are()
    {
        using var anonymous = node.Client(null);
        using var reader = node.Client(RulesNode.ReadToken);
        using var wrong = node.Client("not-the-token");
        foreach (var client in new[] { anonymous, reader, wrong })
        {
            await AssertProblemAsync(await PutAsync(client, "sliding-velocity", """{"enabled":false}"""), HttpStatusCode.Unauthorized);
            await AssertProblemAsync(await client.DeleteAsync("rules/sliding-velocity"), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Put_publishes_the_normalized_value_keyed_by_name_and_the_node_takes_it_as_the_rules_new_version()
    {
        using var admin = node.Client(RulesNode.AdminToken);

        // "rule" left out, the threshold as text, the window left out: the record holds every setting.
        var answer = await AssertAcceptedAsync(await PutAsync(admin, "sliding-velocity", """{"enabled":true,"params":{"threshold":"3"}}"""));
        Assert.Equal("sliding-velocity", answer.GetProperty("rule").GetString());
        Assert.Equal("rules", answer.GetProperty("topic").GetString());
        var offset = answer.GetProperty("offset").GetInt64();
        Assert.Equal(offset + 1, answer.GetProperty("version").GetInt64());
        Assert.Equal("3", answer.GetProperty("params").GetProperty("threshold").GetString());

        var record = Assert.Single(RulesTopic(), r => r.Offset.Value == offset);
        Assert.Equal("sliding-velocity", Encoding.UTF8.GetString(record.Message.Key!));
        Assert.Equal("""{"rule":"sliding-velocity","enabled":true,"params":{"threshold":3,"window":"60s"}}""", Encoding.UTF8.GetString(record.Message.Value));

        var rule = await DesiredAsync("sliding-velocity", offset + 1);
        Assert.Equal("3", rule.GetProperty("params").GetProperty("threshold").GetString());
        Assert.True(rule.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Delete_publishes_a_tombstone_and_the_rule_returns_to_its_configured_settings()
    {
        using var admin = node.Client(RulesNode.AdminToken);
        var set = await AssertAcceptedAsync(await PutAsync(admin, "timer-velocity", """{"enabled":true,"params":{"threshold":2}}"""));
        await DesiredAsync("timer-velocity", set.GetProperty("version").GetInt64());

        var reset = await AssertAcceptedAsync(await admin.DeleteAsync("rules/timer-velocity"));
        var offset = reset.GetProperty("offset").GetInt64();
        Assert.False(reset.GetProperty("enabled").GetBoolean());
        Assert.Equal("5", reset.GetProperty("params").GetProperty("threshold").GetString());

        var tombstone = Assert.Single(RulesTopic(), r => r.Offset.Value == offset);
        Assert.Equal("timer-velocity", Encoding.UTF8.GetString(tombstone.Message.Key!));
        Assert.Null(tombstone.Message.Value);

        var rule = await DesiredAsync("timer-velocity", offset + 1);
        Assert.False(rule.GetProperty("enabled").GetBoolean());
        Assert.Equal("5", rule.GetProperty("params").GetProperty("threshold").GetString());
    }

    private List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]>> RulesTopic() =>
        KafkaTestTopics.ReadAll(node.Bootstrap, node.Settings.Topics.Rules, Timeout);

    /// <summary>The node's desired settings of <paramref name="name"/>, once it has read the record of <paramref name="version"/>.</summary>
    private async Task<JsonElement> DesiredAsync(string name, long version)
    {
        using var reader = node.Client(RulesNode.ReadToken);
        var rules = await Eventually.ValueAsync(
            () => GetRulesAsync(reader),
            r => Desired(r, name).GetProperty("version").GetInt64() == version,
            Timeout);
        return Desired(rules, name);
    }

    private static JsonElement Desired(JsonElement rules, string name) =>
        rules.GetProperty("desired").EnumerateArray().Single(r => r.GetProperty("rule").GetString() == name);

    private static async Task<JsonElement> GetRulesAsync(HttpClient http)
    {
        var response = await http.GetAsync("rules");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /rules: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient http, string name, string body) =>
        http.PutAsync($"rules/{name}", new StringContent(body, Encoding.UTF8, "application/json"));

    private static void AssertRuleShape(JsonElement rule)
    {
        Assert.Contains(rule.GetProperty("enabled").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.True(rule.GetProperty("version").GetInt64() >= 0);
        var parameters = rule.GetProperty("params");
        Assert.Equal(JsonValueKind.Object, parameters.ValueKind);
        Assert.NotEmpty(parameters.EnumerateObject());
        Assert.All(parameters.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
    }

    private static async Task<JsonElement> AssertAcceptedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A 400 problem whose <c>key</c> is <paramref name="key"/> and whose detail names it too.</summary>
    private static async Task<JsonElement> AssertBadFieldAsync(HttpResponseMessage response, string key)
    {
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(key, problem.GetProperty("key").GetString());
        Assert.Contains(key + ":", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        return problem;
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
