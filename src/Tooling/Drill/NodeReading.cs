using System.Text.Json;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// What a soak reads from one node's HTTP API at a sample: memory and GC from <c>/metrics</c>
/// (cumulative counters as they stand), the checkpoint duration histogram's sum and count, and
/// the longest checkpoint started since a given moment from <c>/jobs/{id}/checkpoints</c> (the
/// node keeps its last <c>checkpoint.retained</c> only, so a long sample interval may miss some).
/// </summary>
public sealed record NodeReading(
    double WorkingSetBytes,
    double GcHeapBytes,
    double GcHeapAfterCollectionBytes,
    IReadOnlyList<double> Collections,
    double GcPauseSeconds,
    double CheckpointSeconds,
    double Checkpoints,
    double FailedCheckpoints,
    double? LongestCheckpointMs)
{
    /// <summary>The checkpoints a node ended, as <c>/metrics</c> names their count.</summary>
    public const string CheckpointCount = Duration + "_count";

    private const string Duration = "fraud_checkpoint_duration_seconds";

    /// <summary>Reads the node at <paramref name="address"/>; throws <see cref="HttpRequestException"/> or <see cref="FormatException"/> naming what is missing.</summary>
    public static async Task<NodeReading> ReadAsync(HttpClient http, Uri address, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync(new Uri(address, "metrics"), cancellationToken).ConfigureAwait(false);
        var metrics = Parse(text);
        double Value(string key) => metrics.TryGetValue(key, out var v) ? v : throw new FormatException($"{address}metrics has no {key}");
        var collections = Enumerable.Range(0, 3).Select(g => Value(string.Create(CultureInfo.InvariantCulture, $"fraud_gc_collections_total{{generation=\"{g}\"}}"))).ToList();

        using var jobs = JsonDocument.Parse(await http.GetStringAsync(new Uri(address, "jobs"), cancellationToken).ConfigureAwait(false));
        var id = jobs.RootElement.GetProperty("jobs")[0].GetProperty("id").GetString();
        using var checkpoints = JsonDocument.Parse(await http.GetStringAsync(new Uri(address, $"jobs/{id}/checkpoints"), cancellationToken).ConfigureAwait(false));
        var durations = checkpoints.RootElement.GetProperty("history").EnumerateArray()
            .Where(c => DateTimeOffset.Parse(c.GetProperty("started").GetString()!, CultureInfo.InvariantCulture) >= since)
            .Select(c => (double)c.GetProperty("duration_ms").GetInt64())
            .ToList();

        return new NodeReading(
            Value("fraud_process_working_set_bytes"),
            Value("fraud_gc_heap_bytes"),
            Value("fraud_gc_heap_after_collection_bytes"),
            collections,
            Value("fraud_gc_pause_seconds_total"),
            Value(Duration + "_sum"),
            Value(CheckpointCount),
            metrics.TryGetValue("fraud_checkpoints_total{status=\"failed\"}", out var failed) ? failed : 0,
            durations.Count > 0 ? durations.Max() : null);
    }

    /// <summary>Prometheus text format: each sample's name with its labels as written, to its value.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            var space = trimmed.LastIndexOf(' ');
            if (trimmed.Length == 0 || trimmed[0] == '#' || space < 1)
            {
                continue;
            }

            if (double.TryParse(trimmed[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                values[trimmed[..space]] = value;
            }
        }

        return values;
    }
}
