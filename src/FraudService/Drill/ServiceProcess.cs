using System.Collections.Concurrent;
using System.Diagnostics;

namespace FraudActors.FraudService.Drill;

/// <summary>A <c>fraud run</c> child process of the drill, started from this very executable.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _stdout = new();

    private ServiceProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public IEnumerable<string> StandardError => _stderr;

    /// <summary>The ALERT lines and other output, in order.</summary>
    public IEnumerable<string> StandardOutput => _stdout;

    public static ServiceProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        // Run as `dotnet fraud.dll` or as the `fraud` apphost, whichever this process is.
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ServiceProcess).Assembly.Location);
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

    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
