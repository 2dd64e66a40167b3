using System.Text.Json;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cli;

/// <summary><c>fraud bench</c> measures and reports; what it measures is not judged here, only that every figure is there.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task A_quick_bench_prints_each_scenario_and_writes_every_figure_as_json()
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.json");
        var (code, bench) = await FraudProcess.RunAsync(TimeSpan.FromMinutes(6), "bench", "--quick", "--store", "sqlite", "--users", "5000", "--json", json);
        Assert.True(code == 0, bench.StandardErrorTail());
        Assert.Equal(2, bench.StandardOutput.Count(l => l.StartsWith("checkpoint users=", StringComparison.Ordinal)));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("recovery users=5000 ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("engine transactions=200000 users=100000 ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("kafka transactions=20000 partitions=3 ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("latency load=50% ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("latency load=80% ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("memory resident_users=20000 ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("memory stream_users=50000 ", StringComparison.Ordinal));
        Assert.Single(bench.StandardOutput, l => l.StartsWith("restart rounds=1 ", StringComparison.Ordinal));

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
        foreach (var figure in new[]
        {
            "tx_per_s", "baseline_tx_per_s", "ratio", "cpu_us_per_tx", "alloc_bytes_per_tx",
            "raw_sharding_tx_per_s", "ratio_to_raw", "actor_msgs_per_tx", "threadpool_items_per_tx", "raw_actor_msgs_per_tx", "raw_threadpool_items_per_tx",
            "user_start_us", "user_start_bytes", "bare_actor_start_us", "bare_actor_start_bytes", "user_start_ratio_to_bare",
        })
        {
            Assert.True(engine.GetProperty(figure).GetDouble() > 0, $"engine.{figure}");
        }

        var kafka = figures.RootElement.GetProperty("kafka");
        foreach (var figure in new[] { "tx_per_s", "baseline_tx_per_s", "ratio", "applied_tx_per_s", "alerts", "startup_s" })
        {
            Assert.True(kafka.GetProperty(figure).GetDouble() > 0, $"kafka.{figure}");
        }

        var latency = figures.RootElement.GetProperty("latency");
        Assert.True(latency.GetProperty("max_rate_per_s").GetDouble() > 0, "latency.max_rate_per_s");
        foreach (var suffix in new[] { string.Empty, "_at_80" })
        {
            foreach (var figure in new[] { "rate_per_s", "alerts", "p50_ms", "p99_ms", "p999_ms", "max_ms", "kafka_p50_ms", "kafka_p99_ms", "kafka_p999_ms" })
            {
                Assert.True(latency.GetProperty(figure + suffix).GetDouble() > 0, $"latency.{figure}{suffix}");
            }
        }

        var restart = figures.RootElement.GetProperty("restart");
        foreach (var figure in new[] { "restart_ms", "restart_max_ms", "baseline_backoff_ms", "ratio" })
        {
            Assert.True(restart.GetProperty(figure).GetDouble() > 0, $"restart.{figure}");
        }

        var recovery = figures.RootElement.GetProperty("recovery");
        Assert.Equal(5000, recovery.GetProperty("users").GetDouble());
        Assert.True(recovery.GetProperty("first_record_ms").GetDouble() >= recovery.GetProperty("journal_recovery_ms").GetDouble());
        Assert.True(recovery.GetProperty("process_first_record_ms").GetDouble() > 0);
        Assert.Equal(1000, recovery.GetProperty("backlog_records").GetDouble());
        Assert.True(recovery.GetProperty("caught_up_ms").GetDouble() >= recovery.GetProperty("process_first_record_ms").GetDouble());
        Assert.True(recovery.GetProperty("zero_lag_ms").GetDouble() >= recovery.GetProperty("caught_up_ms").GetDouble());

        var memory = figures.RootElement.GetProperty("memory");
        foreach (var figure in new[]
        {
            "bytes_per_user_actor", "baseline_bytes_per_user", "ratio",
            "stream_users", "stream_tx_per_s", "peak_resident_users", "peak_heap_mb", "heap_25_mb", "heap_50_mb", "heap_75_mb", "heap_100_mb",
            "final_heap_mb", "final_bytes_per_stream_user", "journal_users", "baseline_journal_bytes_per_user",
        })
        {
            Assert.True(memory.GetProperty(figure).GetDouble() > 0, $"memory.{figure}");
        }

        Assert.Equal(memory.GetProperty("stream_users").GetDouble(), memory.GetProperty("journal_users").GetDouble());

        // The attribution figures are differences of two heaps in a process that ran other
        // scenarios first: present, whatever the noise makes of them.
        Assert.Equal(JsonValueKind.Number, memory.GetProperty("bytes_per_bare_actor").ValueKind);
        Assert.Equal(JsonValueKind.Number, memory.GetProperty("bytes_per_unsharded_user_actor").ValueKind);
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
