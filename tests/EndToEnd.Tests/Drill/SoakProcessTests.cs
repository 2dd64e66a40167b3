using System.Globalization;
using System.Text.Json;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Drill;

/// <summary>
/// <c>fraud drill --soak</c> as a user runs it, short: a PostgreSQL server of its own, the dev
/// broker and one node under a paced load, a table line per sample read from the node's HTTP
/// API and Kafka, the growth verdicts, and the series in a JSON file. Whether this short run's
/// figures level off is the machine's business (a 40 s run is mostly warm-up); the test holds
/// the soak to its report: every sample, every verdict, an exit code that agrees with them.
/// </summary>
public sealed class SoakProcessTests
{
    private static readonly string[] Figures = ["working set of node1", "GC heap after collection of node1", "lag", "checkpoint duration"];

    [Fact]
    public async Task A_short_soak_samples_the_node_judges_each_figure_and_writes_the_series()
    {
        var json = Path.Combine(Path.GetTempPath(), $"fraud-soak-test-{Guid.NewGuid():N}.json");
        try
        {
            var (code, soak) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(3), "drill", "--soak", "40s", "--rate", "200", "--sample-every", "5s", "--json", json);
            var output = soak.StandardOutput.ToList();
            var report = string.Join('\n', output) + soak.StandardErrorTail();

            // One table line per sample, under its header: elapsed seconds, rates, lag, memory.
            var header = output.FindIndex(l => l.TrimStart().StartsWith("t_s ", StringComparison.Ordinal));
            Assert.True(header >= 0, report);
            Assert.Contains("lag", output[header], StringComparison.Ordinal);
            Assert.Contains("rss_mib", output[header], StringComparison.Ordinal);
            var rows = output.Skip(header + 1).TakeWhile(l => l.Length > 0 && char.IsDigit(l.TrimStart()[0])).ToList();
            Assert.Equal(8, rows.Count);
            Assert.All(rows, r => Assert.Equal(14, r.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length));
            Assert.All(rows, r => Assert.True(double.Parse(r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4], CultureInfo.InvariantCulture) > 0, r));

            Assert.Contains(output, l => l.StartsWith("soak summary: ", StringComparison.Ordinal) && l.Contains("at a target of 200 records/s", StringComparison.Ordinal));
            foreach (var figure in Figures)
            {
                Assert.Contains(output, l => l.StartsWith($"growth: {figure}: ", StringComparison.Ordinal) && (l.Contains(": levels off (", StringComparison.Ordinal) || l.Contains(": KEEPS GROWING (", StringComparison.Ordinal)));
            }

            // The verdict line agrees with the exit code; a failure can only be a figure that grows.
            var verdict = Assert.Single(output, l => l.StartsWith("SOAK ", StringComparison.Ordinal));
            if (code == 0)
            {
                Assert.StartsWith("SOAK PASSED: 40s at 200 records/s, 8 samples; no figure keeps growing", verdict, StringComparison.Ordinal);
                Assert.DoesNotContain(output, l => l.Contains("KEEPS GROWING", StringComparison.Ordinal));
            }
            else
            {
                Assert.True(code == 1, report);
                Assert.StartsWith("SOAK FAILED: ", verdict, StringComparison.Ordinal);
                Assert.All(verdict["SOAK FAILED: ".Length..verdict.IndexOf(" (the nodes' logs", StringComparison.Ordinal)].Split("; "), f => Assert.EndsWith(" keeps growing", f, StringComparison.Ordinal));
            }

            // The series: every sample with the node's figures, the verdicts, the same outcome.
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            var root = document.RootElement;
            Assert.Equal(200, root.GetProperty("target_rate_per_s").GetDouble());
            var samples = root.GetProperty("samples").EnumerateArray().ToList();
            Assert.Equal(8, samples.Count);
            Assert.Equal(Enumerable.Range(1, 8), samples.Select(s => s.GetProperty("sample").GetInt32()));
            Assert.True(samples.Sum(s => s.GetProperty("produced_per_s").GetDouble()) > 0);
            Assert.True(samples.Sum(s => s.GetProperty("checkpoints").GetInt64()) > 0, "no checkpoint ended during the soak\n" + report);
            var nodes = samples.Select(s => s.GetProperty("nodes")[0]).ToList();
            foreach (var node in nodes)
            {
                Assert.Equal(JsonValueKind.Null, node.GetProperty("error").ValueKind);
                Assert.True(node.GetProperty("working_set_mib").GetDouble() > 0);
                Assert.True(node.GetProperty("gc_heap_after_collection_mib").GetDouble() >= 0);
                Assert.Equal(3, node.GetProperty("gc_collections").GetArrayLength());
            }

            // The heap after a collection is known once the node has collected: the first sample may come before that.
            Assert.Contains(nodes, n => n.GetProperty("gc_heap_after_collection_mib").GetDouble() > 0);

            var verdicts = root.GetProperty("verdicts").EnumerateArray().ToList();
            Assert.Equal(Figures, verdicts.Select(v => v.GetProperty("figure").GetString()));
            Assert.All(verdicts, v => Assert.True(v.GetProperty("judged").GetBoolean()));
            Assert.Equal(code == 0, root.GetProperty("passed").GetBoolean());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Theory]
    [InlineData("fewer than 8 samples", "--soak", "30s", "--sample-every", "5s")]
    [InlineData("--soak must be a duration", "--soak", "soon")]
    [InlineData("--rate needs --soak", "--rate", "100")]
    [InlineData("--kills is for the recovery drill", "--soak", "2m", "--kills", "3")]
    [InlineData("--rate and --rate-share exclude each other", "--soak", "2m", "--rate", "100", "--rate-share", "0.5")]
    [InlineData("--rate-share must be above 0 and at most 1", "--soak", "2m", "--rate-share", "1.5")]
    public async Task Bad_soak_options_exit_with_2_naming_them(string said, params string[] options)
    {
        var (code, drill) = await FraudProcess.RunAsync(TimeSpan.FromSeconds(60), ["drill", .. options]);
        Assert.Equal(2, code);
        Assert.Contains(said, drill.StandardError, StringComparison.Ordinal);
    }
}
