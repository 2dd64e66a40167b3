using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cli;

/// <summary>Bad arguments exit with 2 and a message naming what is wrong (docs/design.md, section 6).</summary>
public sealed class ExitCodeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("--store", "run", "--store", "nope")]
    [InlineData("--connection", "run", "--store", "postgres")]
    [InlineData("--connection", "run", "--store", "postgres", "--connection", "Hos=1;;x=y=z")]
    [InlineData("--checkpoint-interval", "run", "--checkpoint-interval", "10x")]
    [InlineData("--parallelism", "run", "--parallelism", "0")]
    [InlineData("fraud.bootstrap", "run", "--bootstrap", "kafka")]
    [InlineData("fraud.topics.alerts", "run", "--alerts-topic", "fraud alerts")]
    [InlineData("fraud.connection", "run", "--store", "sqlite", "--connection", "Host=db;Password=x")]
    [InlineData("--rate", "produce", "--rate", "-1")]
    [InlineData("--users", "produce", "--rate", "100", "--users", "10")]
    [InlineData("--limit", "alerts", "--limit", "0")]
    [InlineData("--partitions", "broker", "--partitions", "0")]
    [InlineData("--duration", "demo", "--duration", "forever")]
    [InlineData("bogus", "bogus")]
    [InlineData("--no-such-option", "run", "--no-such-option")]
    public async Task Bad_arguments_exit_with_2_naming_the_problem(string named, params string[] args)
    {
        var (code, process) = await FraudProcess.RunAsync(Timeout, args);
        Assert.Equal(2, code);
        Assert.Contains(named, process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_database_is_a_runtime_failure_with_a_clear_message()
    {
        var (code, process) = await FraudProcess.RunAsync(
            Timeout, "run", "--store", "postgres", "--connection", "Host=127.0.0.1;Port=1;Username=x;Database=y;Timeout=3");
        Assert.Equal(1, code);
        Assert.Contains("database is not reachable", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_http_address_already_taken_stops_the_start_naming_http()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (code, process) = await FraudProcess.RunAsync(Timeout, "run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--http", $"127.0.0.1:{port}");
        Assert.Equal(2, code);
        Assert.Contains($"--http: cannot listen on 127.0.0.1:{port}", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_exits_with_0_and_lists_the_commands()
    {
        var (code, process) = await FraudProcess.RunAsync(Timeout, "--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "demo", "broker", "produce", "run", "alerts" })
        {
            Assert.Contains(process.StandardOutput, l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Run_without_a_reachable_kafka_is_not_an_argument_error_and_stops_cleanly_on_ctrl_c()
    {
        // Nothing listens on port 1: the node starts, the stream retries, Ctrl-C still stops it.
        await using var run = FraudProcess.Start("run", "--bootstrap", "127.0.0.1:1", "--store", "memory");
        await Eventually.TrueAsync(() => run.StandardError.Contains("Ctrl-C stops", StringComparison.Ordinal), Timeout, () => run.StandardError);
        run.Interrupt();
        Assert.Equal(0, await run.WaitForExitAsync(Timeout));
    }
}
