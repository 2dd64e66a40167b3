using System.Text.Json;

namespace FraudActors.Tooling.Bench;

/// <summary>What a scenario needs (the store it measures) and where its figures go.</summary>
public sealed class BenchContext(string store, string connection, TextWriter output)
{
    private readonly Dictionary<string, Dictionary<string, double>> _figures = new(StringComparer.Ordinal);

    public string Store { get; } = store;

    public string Connection { get; } = connection;

    /// <summary>Records a figure (<c>scenario.figure</c> in the JSON) and prints nothing.</summary>
    public void Figure(string scenario, string figure, double value)
    {
        if (!_figures.TryGetValue(scenario, out var figures))
        {
            _figures[scenario] = figures = new Dictionary<string, double>(StringComparer.Ordinal);
        }

        figures[figure] = Math.Round(value, 3);
    }

    /// <summary>One line of results: <c>scenario key=value …</c>.</summary>
    public void Line(string scenario, params (string Key, object Value)[] values) =>
        output.WriteLine(scenario + " " + string.Join(' ', values.Select(v => $"{v.Key}={Format(v.Value)}")));

    /// <summary>
    /// A measurement's same-run baseline, which only some stores have: the baseline's figure and the
    /// ratio to it are recorded (under <paramref name="prefix"/>) when there is one; for the line,
    /// both, or "n/a" when there is none.
    /// </summary>
    public (string Key, object Value)[] Baseline(string scenario, string prefix, string key, double measured, double? baseline)
    {
        if (baseline is not { } value)
        {
            return [(key, "n/a"), ("ratio", "n/a")];
        }

        Figure(scenario, prefix + key, value);
        Figure(scenario, prefix + "ratio", measured / value);
        return [(key, value), ("ratio", measured / value)];
    }

    public void Say(string line) => output.WriteLine("bench: " + line);

    public async Task WriteJsonAsync(string path) =>
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(_figures, new JsonSerializerOptions { WriteIndented = true })).ConfigureAwait(false);

    private static string Format(object value) => value switch
    {
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}

/// <summary>One benchmark scenario: measures, prints its lines with their baseline, records its figures.</summary>
public interface IBenchScenario
{
    string Name { get; }

    Task RunAsync(BenchContext context, CancellationToken stop);
}
