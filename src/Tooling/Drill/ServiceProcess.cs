using System.Collections.Concurrent;

namespace FraudActors.Tooling.Drill;

/// <summary>A <c>fraud run</c> child process of the drill, started from this very executable.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _stdout = new();

    private ServiceProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public IEnumerable<string> StandardError => _stderr;

    /// <summary>The ALERT lines and other output, in order.</summary>
    public IEnumerable<string> StandardOutput => _stdout;

    public static ServiceProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) => Start(null, environment, null, args);

    /// <summary>
    /// Starts <c>fraud</c> with <paramref name="args"/>: the build at <paramref name="assembly"/>
    /// (a <c>fraud.dll</c>, run by <c>dotnet</c>) or, when null, this very executable. A test
    /// process is not <c>fraud</c>, so tests name the build. <paramref name="onStandardError"/>
    /// sees each line of standard error as it arrives, so one observer can follow several
    /// processes in the order they spoke.
    /// </summary>
    public static ServiceProcess Start(string? assembly, IReadOnlyDictionary<string, string> environment, Action<string>? onStandardError, params string[] args)
    {
        // Run as `dotnet fraud.dll` or as the `fraud` apphost, whichever this process is.
        var self = assembly is null ? Environment.ProcessPath! : "dotnet";
        var info = new ProcessStartInfo(self) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // This process's own fraud.dll: the entry assembly (the tooling lives in a library beside it).
            info.ArgumentList.Add(assembly ?? System.Reflection.Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A drill's or bench's service takes any free HTTP port, so it never clashes with a node
        // the user runs on this machine (or with its own previous incarnation).
        info.Environment["FRAUD_HTTP"] = "127.0.0.1:0";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        var child = new ServiceProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child._stderr.Enqueue(e.Data);
                onStandardError?.Invoke(e.Data);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child._stdout.Enqueue(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return child;
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>Waits for the process to end and for its output to be read to the end.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        await SignalAsync("INT").ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>SIGSTOP: every thread stops where it is, as in a long pause of a VM or a GC; its sockets stay open.</summary>
    public Task FreezeAsync() => SignalOrThrowAsync("STOP");

    /// <summary>SIGCONT: a frozen process goes on from where it stopped.</summary>
    public Task ThawAsync() => SignalOrThrowAsync("CONT");

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    /// <summary>Sends <paramref name="signal"/> with <c>kill</c>; false when it could not (the process is gone).</summary>
    private async Task<bool> SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().ConfigureAwait(false);
        return kill.ExitCode == 0;
    }

    private async Task SignalOrThrowAsync(string signal)
    {
        if (!await SignalAsync(signal).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed (has the process exited: {_process.HasExited})");
        }
    }
}
