using Spectre.Console;

namespace FraudActors.Service.Cli;

/// <summary>
/// Progress of a long-running command: a Spectre.Console bar on a terminal, plain lines when
/// the output is a file or a pipe (CI logs, tests), so both read well.
/// </summary>
public sealed class ConsoleProgress
{
    private readonly ProgressTask? _task;
    private readonly string _prefix;
    private readonly TextWriter _plain;
    private string _phase = string.Empty;

    private ConsoleProgress(string prefix, ProgressTask? task, TextWriter plain)
    {
        _prefix = prefix;
        _task = task;
        _plain = plain;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress display fitting the output; plain lines go to
    /// <paramref name="plain"/> (standard output unless given, e.g. standard error for a command
    /// whose standard output is data).
    /// </summary>
    public static async Task<T> RunAsync<T>(string prefix, Func<ConsoleProgress, Task<T>> work, TextWriter? plain = null)
    {
        var redirected = plain == Console.Error ? Console.IsErrorRedirected : Console.IsOutputRedirected;
        if (redirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work(new ConsoleProgress(prefix, null, plain ?? Console.Out)).ConfigureAwait(false);
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(context => work(new ConsoleProgress(prefix, context.AddTask(prefix, maxValue: 1.0), plain ?? Console.Out)))
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
            _plain.WriteLine($"{_prefix}: {phase}");
        }

        _phase = phase;
    }

    /// <summary>Lines written here stay as they are (above the bar on a terminal): for output that is the command's result.</summary>
    public TextWriter Writer => new LineWriter(this);

    /// <summary>A line of output that stays (printed above the bar on a terminal).</summary>
    public void Say(string line)
    {
        if (_task is not null)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{_prefix}: {line}"));
        }
        else
        {
            _plain.WriteLine($"{_prefix}: {line}");
        }
    }

    private void Line(string line)
    {
        if (_task is not null)
        {
            AnsiConsole.MarkupLine(Markup.Escape(line));
        }
        else
        {
            Console.WriteLine(line);
        }
    }

    /// <summary>Forwards whole lines to <see cref="Line"/>.</summary>
    private sealed class LineWriter(ConsoleProgress progress) : TextWriter
    {
        private readonly System.Text.StringBuilder _pending = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                progress.Line(_pending.ToString().TrimEnd('\r'));
                _pending.Clear();
            }
            else
            {
                _pending.Append(value);
            }
        }

        public override void WriteLine(string? value)
        {
            _pending.Append(value);
            progress.Line(_pending.ToString());
            _pending.Clear();
        }
    }
}
