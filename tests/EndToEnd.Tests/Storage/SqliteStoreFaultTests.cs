using FraudActors.Engine.Alerts;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;
using FraudActors.Service.Cli;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Storage;

/// <summary>
/// Issue 8: disk-full and permission errors on the SQLite store give a clear error and a non-zero
/// exit — one line naming the database file and the cause, exit code 1, no hang, no restart loop.
/// The faults are real: file modes the child process must obey (see
/// <see cref="RestrictedChild.FileModesBind"/> for how, when the tests run as root), and a tmpfs
/// of its own that fills up under the service's own writes (<see cref="RestrictedChild.OnSmallTmpfs"/>).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SqliteStoreFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [FileModesFact]
    public async Task A_read_only_database_file_stops_the_node_at_start_naming_the_file_and_permission_denied()
    {
        var directory = Directory.CreateTempSubdirectory("fraud-ro-file-");
        var file = Path.Combine(directory.FullName, "fraud.db");

        // A database a previous run created: its tables exist, so only a write finds the fault.
        await SqlOutboxTable<Alert>.Sqlite($"Data Source={file};Pooling=False", AlertCodec.For("alerts")).InitializeAsync(CancellationToken.None);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (code, stderr) = await RunAsync(RestrictedChild.FileModesBind!, file);

        Assert.True(code == ExitCodes.Failure, $"exit {code}\n{stderr}");
        var line = Assert.Single(stderr.Split('\n'), l => l.StartsWith("fraud: the SQLite database", StringComparison.Ordinal));
        Assert.Contains($"'{file}'", line, StringComparison.Ordinal);
        Assert.Contains("permission denied: the file is not writable", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        directory.Delete(recursive: true);
    }

    [FileModesFact]
    public async Task A_database_in_a_directory_the_process_cannot_write_stops_the_node_at_start_naming_the_directory()
    {
        var directory = Directory.CreateTempSubdirectory("fraud-ro-dir-");
        var file = Path.Combine(directory.FullName, "fraud.db");
        File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var (code, stderr) = await RunAsync(RestrictedChild.FileModesBind!, file);

        Assert.True(code == ExitCodes.Failure, $"exit {code}\n{stderr}");
        var line = Assert.Single(stderr.Split('\n'), l => l.StartsWith("fraud: the SQLite database", StringComparison.Ordinal));
        Assert.Contains($"'{file}'", line, StringComparison.Ordinal);
        Assert.Contains($"permission denied: its directory '{directory.FullName}' is not writable", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
        File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        directory.Delete(recursive: true);
    }

    [PrivateTmpfsFact]
    public async Task A_disk_that_fills_up_while_running_stops_the_node_naming_the_file_and_disk_full()
    {
        var bootstrapFile = Path.GetTempFileName();
        await using var broker = FraudProcess.Start("broker", "--bootstrap-file", bootstrapFile);
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];
        var (produced, producer) = await FraudProcess.RunAsync(
            Timeout, "produce", "--bootstrap", bootstrap, "--seed", "3", "--count", "6000", "--users", "6000", "--max-speed");
        Assert.True(produced == 0, producer.StandardError);

        // 256 KiB hold the tables and the first records' alerts, not a checkpoint of thousands of
        // users: the service starts, then its own writes fill the filesystem.
        var directory = Directory.CreateTempSubdirectory("fraud-full-");
        var file = Path.Combine(directory.FullName, "fraud.db");
        await using var service = FraudProcess.StartWrapped(
            RestrictedChild.OnSmallTmpfs(directory.FullName, "256k")!,
            new Dictionary<string, string>(),
            "run", "--bootstrap", bootstrap, "--store", "sqlite", "--connection", $"Data Source={file}", "--checkpoint-interval", "500ms");

        var code = await service.WaitForExitAsync(Timeout);

        var stderr = service.StandardError;
        Assert.True(code == ExitCodes.Failure, $"exit {code}\n{service.StandardErrorTail()}");
        Assert.Contains("fraud: running;", stderr, StringComparison.Ordinal);
        var line = Assert.Single(stderr.Split('\n'), l => l.StartsWith("fraud: the SQLite database", StringComparison.Ordinal));
        Assert.Contains($"'{file}'", line, StringComparison.Ordinal);
        Assert.Contains("disk full", line, StringComparison.Ordinal);
        Assert.Contains("SQLite Error 13", line, StringComparison.Ordinal);

        // Ended by its own decision, once: not killed, not restarted in a loop.
        Assert.Equal(1, stderr.Split('\n').Count(l => l.StartsWith("fraud: running;", StringComparison.Ordinal)));
        Assert.Contains("fraud: stopping without a final checkpoint", stderr, StringComparison.Ordinal);
        directory.Delete(recursive: true);
    }

    private static async Task<(int Code, string Stderr)> RunAsync(IReadOnlyList<string> wrapper, string file)
    {
        // No broker: the store is checked before anything talks to Kafka.
        await using var service = FraudProcess.StartWrapped(
            wrapper,
            new Dictionary<string, string>(),
            "run", "--bootstrap", "127.0.0.1:9", "--store", "sqlite", "--connection", $"Data Source={file}");
        var code = await service.WaitForExitAsync(Timeout);
        return (code, service.StandardError);
    }

    /// <summary>Runs where file modes bind a child process (see <see cref="RestrictedChild.FileModesBind"/>).</summary>
    private sealed class FileModesFactAttribute : FactAttribute
    {
        public FileModesFactAttribute()
        {
            if (RestrictedChild.FileModesBind is null)
            {
                Skip = RestrictedChild.WhyNoFileModes;
            }
        }
    }

    /// <summary>Runs where a child may mount a tmpfs of its own (see <see cref="RestrictedChild.OnSmallTmpfs"/>).</summary>
    private sealed class PrivateTmpfsFactAttribute : FactAttribute
    {
        public PrivateTmpfsFactAttribute()
        {
            if (RestrictedChild.OnSmallTmpfs("/tmp", "64k") is null)
            {
                Skip = RestrictedChild.WhyNoMountNamespace;
            }
        }
    }
}
