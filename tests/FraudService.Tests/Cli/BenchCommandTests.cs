using System.Text.Json;
using FraudActors.Testing;

namespace FraudActors.FraudService.Tests.Cli;

/// <summary><c>fraud bench</c> measures and reports; what it measures is not judged here, only that every figure is there.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task A_quick_bench_prints_each_scenario_and_writes_every_figure_as_json()
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.json");
        var (code, bench) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(3), "bench", "--quick", "--store", "sqlite", "--users", "5000", "--json", json);
        Assert.True(code == 0, bench.StandardErrorTail());
        Assert.Equal(2, bench.StandardOutput.Count(l => l.StartsWith("checkpoint users=", StringComparison.Ordinal)));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("recovery users=5000 ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("engine transactions=200000 users=100000 ", StringComparison.Ordinal));

        using var figures = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var checkpoint = figures.RootElement.GetProperty("checkpoint");
        foreach (var size in new[] { 1000, 10000 })
        {
            foreach (var figure in new[] { "duration_ms", "barriers_ms", "write_ms", "bytes", "chunks" })
            {
                Assert.True(checkpoint.GetProperty($"users_{size}.{figure}").GetDouble() > 0, $"users_{size}.{figure}");
            }
        }

        var engine = figures.RootElement.GetProperty("engine");
        foreach (var figure in new[] { "tx_per_s", "baseline_tx_per_s", "ratio" })
        {
            Assert.True(engine.GetProperty(figure).GetDouble() > 0, $"engine.{figure}");
        }

        var recovery = figures.RootElement.GetProperty("recovery");
        Assert.Equal(5000, recovery.GetProperty("users").GetDouble());
        Assert.True(recovery.GetProperty("first_record_ms").GetDouble() >= recovery.GetProperty("journal_recovery_ms").GetDouble());
        Assert.True(recovery.GetProperty("process_first_record_ms").GetDouble() > 0);
        File.Delete(json);
    }

    [Fact]
    public async Task An_unknown_scenario_is_a_bad_argument()
    {
        var (code, bench) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(1), "bench", "--scenario", "everything");
        Assert.Equal(2, code);
        Assert.Contains("everything", bench.StandardErrorTail(), StringComparison.Ordinal);
    }
}
