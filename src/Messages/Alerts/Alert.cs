using System.Globalization;

namespace FraudActors.Messages.Alerts;

/// <summary>
/// A fraud alert as published on the <c>alerts</c> topic (docs/design.md, section 2).
/// <see cref="AlertId"/> is <c>rule:partition:offset</c> of the triggering record, so a replay
/// of the same record produces the same id and a consumer can drop the copy.
/// </summary>
public sealed record Alert(
    string AlertId,
    string Rule,
    string UserId,
    int Count,
    long WindowMs,
    decimal LastAmount,
    DateTimeOffset TxTs,
    int Partition,
    long Offset,
    DateTimeOffset DetectedAt,
    string? TxId = null)
{
    /// <summary>The version of the rule's settings that raised it: 0 for the configuration's, else from the <c>rules</c> topic (docs/design.md, "Dynamic rules").</summary>
    public long RuleVersion { get; init; }

    public static string IdFor(string rule, int partition, long offset) =>
        string.Create(CultureInfo.InvariantCulture, $"{rule}:{partition}:{offset}");

    /// <summary>The lecture's console line: <c>ALERT user=u901 count=6 last_amount=12.5</c>.</summary>
    public string ToConsoleLine() =>
        string.Create(CultureInfo.InvariantCulture, $"ALERT user={UserId} count={Count} last_amount={LastAmount.Normalize()}");
}

internal static class DecimalText
{
    /// <summary>Drops trailing zeros so 12.50 prints as 12.5, as the lecture's Python does.</summary>
    public static decimal Normalize(this decimal value) => value / 1.000000000000000000000000000000000m;
}
