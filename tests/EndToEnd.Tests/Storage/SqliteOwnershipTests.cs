using FraudActors.Service.Cli;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Storage;

/// <summary>
/// Issue 18: one process per SQLite file. A second node on the file a running node holds exits 2,
/// naming the file and the process holding it; after that node is killed with <c>kill -9</c> the
/// file is free at once (the kernel drops the lock with the process: nothing stale to clean).
/// </summary>
public sealed class SqliteOwnershipTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_second_node_on_the_same_SQLite_file_exits_2_naming_the_file_and_the_first_process()
    {
        await using var broker = FraudProcess.Start("broker");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var directory = Directory.CreateTempSubdirectory("fraud-owner-");
        var file = Path.Combine(directory.FullName, "fraud-state.db");
        string[] run = ["run", "--bootstrap", bootstrap, "--store", "sqlite", "--store-path", file, "--http", "127.0.0.1:0", "--node-port", "0"];

        await using var first = FraudProcess.Start(new Dictionary<string, string> { ["FRAUD_GROUP"] = "owner-test" }, run);
        await Eventually.TrueAsync(
            () => first.StandardError.Contains("fraud: running", StringComparison.Ordinal) || first.HasExited,
            Timeout,
            () => first.StandardErrorTail());
        Assert.False(first.HasExited, first.StandardErrorTail());

        var (code, second) = await FraudProcess.RunAsync(Timeout, run);
        Assert.True(code == ExitCodes.BadArguments, $"exit {code}\n{second.StandardError}");
        var line = Assert.Single(second.StandardError.Split('\n'), l => l.StartsWith("fraud: the SQLite file", StringComparison.Ordinal));
        Assert.Contains(file, line, StringComparison.Ordinal);
        Assert.Contains($"process {first.Id} ", line, StringComparison.Ordinal);
        Assert.False(first.HasExited, "the running node must not be disturbed");

        // Killed without a word: the next node takes the file at once.
        await first.KillHardAsync();
        await using var third = FraudProcess.Start(new Dictionary<string, string> { ["FRAUD_GROUP"] = "owner-test" }, run);
        await Eventually.TrueAsync(
            () => third.StandardError.Contains("fraud: running", StringComparison.Ordinal) || third.HasExited,
            Timeout,
            () => third.StandardErrorTail());
        Assert.False(third.HasExited, third.StandardErrorTail());
        third.Interrupt();
        Assert.Equal(0, await third.WaitForExitAsync(Timeout));
        directory.Delete(recursive: true);
    }
}
