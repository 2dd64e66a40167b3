using System.Text;
using FraudActors.Testkit;

namespace FraudActors.Service.Tests.Rules;

/// <summary>
/// <c>fraud rules list|set</c> as the real executable runs them: bad arguments exit 2 naming the
/// option or the key; <c>set --bootstrap</c> publishes the normalized record to the rules topic
/// (<c>--rules-topic</c> honoured), <c>--reset</c> a tombstone, and <c>list --bootstrap</c> reads
/// them back with the refused records; a missing topic is an error, never created; <c>--http</c>
/// goes through a node's API with its tokens.
/// </summary>
[Collection(RulesNodeCollection.Name)]
public sealed class RulesCommandTests(RulesNode node)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Rules_help_lists_list_and_set()
    {
        var (code, process) = await FraudProcess.RunAsync(Timeout, "rules", "--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "list", "set" })
        {
            Assert.Contains(process.StandardOutput, l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("params.threshold", "set", "sliding-velocity", "--param", "threshold=0")]
    [InlineData("params.window", "set", "sliding-velocity", "--param", "window=soon")]
    [InlineData("params.treshold", "set", "sliding-velocity", "--param", "treshold=3")]
    [InlineData("--param", "set", "sliding-velocity", "--param", "threshold")]
    [InlineData("--param", "set", "sliding-velocity", "--param", "threshold=3", "--param", "threshold=4")]
    [InlineData("--enabled", "set", "sliding-velocity", "--enabled", "maybe")]
    [InlineData("enabled", "set", "sliding-velocity", "--json", """{"enabled":1}""")]
    [InlineData("value", "set", "sliding-velocity", "--json", "{enabled")]
    [InlineData("key", "set", "fast-spender", "--enabled", "true")]
    [InlineData("--reset", "set", "sliding-velocity", "--reset", "--enabled", "true")]
    [InlineData("--json", "set", "sliding-velocity", "--json", "{}", "--param", "threshold=3")]
    [InlineData("--reset", "set", "sliding-velocity")]
    [InlineData("--http/--bootstrap", "set", "sliding-velocity", "--enabled", "true", "--http", "127.0.0.1:1", "--bootstrap", "127.0.0.1:1")]
    [InlineData("--http", "list", "--http", "ftp://node")]
    [InlineData("--enabled", "set", "sliding-velocity", "--enabled")]
    [InlineData("'set'", "set")]
    public async Task Bad_arguments_exit_with_2_naming_the_option_or_the_key(string named, params string[] args)
    {
        var (code, process) = await FraudProcess.RunAsync(Timeout, ["rules", .. args]);
        Assert.True(code == 2, $"exit {code}\nstderr:\n{process.StandardError}");
        Assert.Contains(named, process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Set_with_bootstrap_publishes_the_normalized_record_and_a_tombstone_and_list_reads_them_back()
    {
        const string topic = "rules-by-hand";
        using var broker = KafkaTestTopics.StartBroker((topic, 1));
        var bootstrap = broker.BootstrapServers;

        var (code, set) = await FraudProcess.RunAsync(Timeout, "rules", "set", "sliding-velocity", "--param", "threshold=3", "--enabled", "true", "--bootstrap", bootstrap, "--rules-topic", topic);
        Assert.True(code == 0, set.StandardError);
        Assert.Equal(["sliding-velocity: on, threshold=3, window=60s", $"published to {topic} (partition 0) at offset 0: version 1"], set.StandardOutput);

        (code, var reset) = await FraudProcess.RunAsync(Timeout, "rules", "set", "timer-velocity", "--reset", "--bootstrap", bootstrap, "--rules-topic", topic);
        Assert.True(code == 0, reset.StandardError);
        Assert.Contains($"published to {topic} (partition 0) at offset 1: version 2", reset.StandardOutput);

        var records = KafkaTestTopics.ReadAll(bootstrap, topic, Timeout);
        Assert.Equal(2, records.Count);
        Assert.Equal("sliding-velocity", Encoding.UTF8.GetString(records[0].Message.Key!));
        Assert.Equal("""{"rule":"sliding-velocity","enabled":true,"params":{"threshold":3,"window":"60s"}}""", Encoding.UTF8.GetString(records[0].Message.Value));
        Assert.Equal("timer-velocity", Encoding.UTF8.GetString(records[1].Message.Key!));
        Assert.Null(records[1].Message.Value);

        // A record written past the checks: listed as refused, naming the key at fault.
        await KafkaTestTopics.ProduceAsync(bootstrap, topic, [("sliding-velocity", """{"params":{"threshold":-1}}""")]);
        (code, var list) = await FraudProcess.RunAsync(Timeout, "rules", "list", "--bootstrap", bootstrap, "--rules-topic", topic);
        Assert.True(code == 0, list.StandardError);
        var lines = list.StandardOutput.ToList();
        Assert.Contains(lines, l => l.StartsWith($"rules topic '{topic}'", StringComparison.Ordinal) && l.Contains("3 records, 1 refused", StringComparison.Ordinal));
        Assert.Contains(lines, l => Words(l) is ["sliding-velocity", "on", "1", "threshold=3", "window=60s"]);
        Assert.Contains(lines, l => Words(l) is ["timer-velocity", "off", "2", "threshold=5", "window=60s"]);
        Assert.Contains(lines, l => l.StartsWith("refused: partition 0 offset 2 key 'sliding-velocity': ", StringComparison.Ordinal) && l.Contains("params.threshold:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Set_to_a_topic_that_does_not_exist_fails_without_creating_it()
    {
        // The dev broker, like a broker with auto.create.topics.enable, creates a topic a producer
        // names: an uncompacted rules topic would lose the rules to retention.
        using var broker = KafkaTestTopics.StartBroker(("transactions", 1));
        var (code, set) = await FraudProcess.RunAsync(Timeout, "rules", "set", "sliding-velocity", "--enabled", "false", "--bootstrap", broker.BootstrapServers, "--rules-topic", "no-rules");
        Assert.Equal(1, code);
        Assert.Contains("the rules topic 'no-rules' does not exist", set.StandardError, StringComparison.Ordinal);

        (code, var list) = await FraudProcess.RunAsync(Timeout, "rules", "list", "--bootstrap", broker.BootstrapServers, "--rules-topic", "no-rules");
        Assert.True(code == 0, list.StandardError);
        Assert.StartsWith("rules topic 'no-rules' at ", list.StandardOutput.First(), StringComparison.Ordinal);
        Assert.Contains("does not exist: every rule as configured here", list.StandardOutput.First(), StringComparison.Ordinal);
        Assert.Contains(list.StandardOutput, l => Words(l) is ["sliding-velocity", "on", "0", "threshold=5", "window=60s"]);
    }

    [Fact]
    public async Task Set_and_list_through_a_nodes_http_api_use_its_tokens()
    {
        var http = node.Address.ToString();
        var (code, refused) = await FraudProcess.RunAsync(Timeout, "rules", "set", "small-then-large", "--enabled", "true", "--http", http, "--token", RulesNode.ReadToken);
        Assert.Equal(2, code);
        Assert.Contains("--token", refused.StandardError, StringComparison.Ordinal);

        (code, var set) = await FraudProcess.RunAsync(Timeout, "rules", "set", "small-then-large", "--json", """{"enabled":true,"params":{"within":"30s"}}""", "--http", http, "--token", RulesNode.AdminToken);
        Assert.True(code == 0, set.StandardError);
        Assert.Equal("small-then-large: on, large-above=500, small-below=1, within=30s", set.StandardOutput.First());
        var version = long.Parse(System.Text.RegularExpressions.Regex.Match(set.StandardOutput.Last(), @"version (\d+)$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        // The node reads its own record back; the list shows it as desired.
        await Eventually.ValueAsync(
            async () => (await FraudProcess.RunAsync(Timeout, "rules", "list", "--http", http, "--token", RulesNode.ReadToken)).Process.StandardOutput.ToList(),
            lines => lines.Any(l => Words(l) is ["desired", "small-then-large", "on", var v, ..] && v == version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Timeout);
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
