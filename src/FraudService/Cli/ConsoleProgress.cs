using Spectre.Console;

namespace FraudActors.FraudService.Cli;

/// <summary>
/// Progress of a long-running command: a Spectre.Console bar on a terminal, plain lines when
/// the output is a file or a pipe (CI logs, tests), so both read well.
/// </summary>
public sealed class ConsoleProgress
{
    private readonly ProgressTask? _task;
    private readonly string _prefix;
    private string _phase = string.Empty;

    private ConsoleProgress(string prefix, ProgressTask? task)
    {
        _prefix = prefix;
        _task = task;
    }

    /// <summary>Runs <paramref name="work"/> with a progress display fitting the output.</summary>
    public static async Task<T> RunAsync<T>(string prefix, Func<ConsoleProgress, Task<T>> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work(new ConsoleProgress(prefix, null)).ConfigureAwait(false);
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(context => work(new ConsoleProgress(prefix, context.AddTask(prefix, maxValue: 1.0))))
            .ConfigureAwait(false);
    }

    /// <summary>Where the work stands: a phase name and the fraction done (0 to 1).</summary>
    public void Report(string phase, double fraction)
    {
        if (_task is { } task)
        {
            task.Description = Markup.Escape($"{_prefix}: {phase}");
            task.Value = Math.Clamp(fraction, 0, 1);
        }
        else if (phase != _phase)
        {
            Console.WriteLine($"{_prefix}: {phase}");
        }

        _phase = phase;
    }

    /// <summary>A line of output that stays (printed above the bar on a terminal).</summary>
    public void Say(string line)
    {
        if (_task is not null)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{_prefix}: {line}"));
        }
        else
        {
            Console.WriteLine($"{_prefix}: {line}");
        }
    }
}
