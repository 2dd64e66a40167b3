using System.Globalization;
using System.Text.RegularExpressions;

namespace FraudActors.Engine.Configuration;

/// <summary>Durations as HOCON and Flink users write them: <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>, <c>1d</c>.</summary>
public static partial class Durations
{
    public const string Hint = "use a number with ms, s, m, h or d, e.g. 500ms or 10s";

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        var match = text is null ? Match.Empty : Pattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }

        duration = match.Groups["u"].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "s" or "" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.MinValue,
        };
        return duration >= TimeSpan.Zero;
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalMilliseconds % 1000 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalSeconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalMilliseconds}ms");

    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?)\s*(?<u>ms|s|m|h|d|)$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
