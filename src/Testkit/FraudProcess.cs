using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FraudActors.Testkit;

/// <summary>
/// The real <c>fraud</c> executable as a child process, with its output collected line by line
/// so tests wait for what it says rather than for time to pass.
/// </summary>
public sealed partial class FraudProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    /// <summary>Where the standard error is also written when <c>FRAUD_TEST_LOGS</c> names a directory (to read a failed run's logs); null otherwise.</summary>
    private TextWriter? _log;

    private FraudProcess(Process process)
    {
        _process = process;
    }

    public IReadOnlyCollection<string> StandardOutput => [.. _stdout];

    public string StandardError => string.Join('\n', _stderr);

    /// <summary>The last lines of standard error, for failure messages.</summary>
    public string StandardErrorTail(int lines = 40) => string.Join('\n', _stderr.TakeLast(lines));

    public int Id => _process.Id;

    /// <summary>The executable the tests run: the build of src/FraudService beside this test build.</summary>
    public static string Executable
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "FraudActors.sln")))
            {
                root = root.Parent;
            }

            var dll = Path.Combine(root!.FullName, "src", "FraudService", "bin", configuration, "net10.0", "fraud.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"build src/FraudService ({configuration}) first", dll);
        }
    }

    public static FraudProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    public static FraudProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        StartWrapped([], environment, args);

    /// <summary>Starts it with <paramref name="workingDirectory"/> as its working directory (where the default store's file goes).</summary>
    public static FraudProcess StartIn(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start([], environment, input: false, args, workingDirectory);

    /// <summary>Starts it with its standard input open to <see cref="WriteLineAsync"/> (e.g. <c>fraud broker --controls</c>).</summary>
    public static FraudProcess StartWithInput(params string[] args) => Start([], new Dictionary<string, string>(), input: true, args);

    /// <summary>Writes a line to the standard input of a process started by <see cref="StartWithInput"/>.</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>
    /// Starts <c>fraud</c> under a wrapper command <paramref name="command"/> (e.g. <c>setpriv …</c>, <c>unshare …</c>) that
    /// ends by executing the rest of its arguments: <c>dotnet fraud.dll args…</c>.
    /// </summary>
    public static FraudProcess StartWrapped(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(command, environment, input: false, args);

    private static FraudProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, bool input, string[] args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(command.Count > 0 ? command[0] : "dotnet")
        {
            WorkingDirectory = workingDirectory ?? string.Empty,
            RedirectStandardInput = input,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (command.Count > 0)
        {
            foreach (var arg in command.Skip(1))
            {
                info.ArgumentList.Add(arg);
            }

            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Executable);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Tests run services side by side: each takes a free HTTP port unless the test chose one.
        info.Environment["FRAUD_HTTP"] = "127.0.0.1:0";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var wrapper = new FraudProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Collect(wrapper._stdout, e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            wrapper.Collect(wrapper._stderr, e.Data);
            if (e.Data is not null)
            {
                wrapper._log?.WriteLine(e.Data);
            }
        };
        if (Environment.GetEnvironmentVariable("FRAUD_TEST_LOGS") is { Length: > 0 } logs)
        {
            Directory.CreateDirectory(logs);
            var name = $"{DateTime.UtcNow:HHmmss.fff}-{string.Join('-', args.Take(1))}-{Guid.NewGuid().ToString("N")[..6]}.log";
            wrapper._log = TextWriter.Synchronized(new StreamWriter(Path.Combine(logs, name)) { AutoFlush = true });
        }

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs to completion and returns the exit code.</summary>
    public static async Task<(int ExitCode, FraudProcess Process)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var process = Start(args);
        return (await process.WaitForExitAsync(timeout), process);
    }

    /// <summary>Waits until a line of standard output matches, or fails with what the process said.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            if (_stdout.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (_process.HasExited)
            {
                // Let the output streams reach their end, then look once more.
                _process.WaitForExit();
                if (_stdout.FirstOrDefault(match) is { } last)
                {
                    return last;
                }

                throw new InvalidOperationException($"fraud exited ({_process.ExitCode}) before the expected output.\nstdout:\n{string.Join('\n', _stdout)}\nstderr:\n{StandardError}");
            }

            try
            {
                await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching output within {timeout}.\nstdout:\n{string.Join('\n', _stdout)}\nstderr:\n{StandardError}");
            }
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"fraud did not exit within {timeout}.\nstderr:\n{StandardError}");
        }

        // WaitForExitAsync returns after the output streams reached their end.
        return _process.ExitCode;
    }

    /// <summary>Ctrl-C, as a user stops it.</summary>
    public void Interrupt() => Signal(2);

    /// <summary>SIGTERM, as a container runtime (<c>docker stop</c>) or an orchestrator stops it.</summary>
    public void Terminate() => Signal(15);

    /// <summary>SIGSTOP: every thread stops where it is, as in a long pause of a VM or a GC; its sockets stay open.</summary>
    public void Freeze() => Signal(19);

    /// <summary>SIGCONT: a frozen process goes on from where it stopped.</summary>
    public void Thaw() => Signal(18);

    /// <summary><c>kill -9</c>: no handler runs, nothing is flushed.</summary>
    public async Task KillHardAsync()
    {
        Signal(9);
        await _process.WaitForExitAsync();
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    private void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private void Collect(ConcurrentQueue<string> queue, string? line)
    {
        if (line is not null)
        {
            queue.Enqueue(line);
            _lineArrived.Release();
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
