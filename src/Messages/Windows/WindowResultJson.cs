using System.Buffers;
using System.Text.Json;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Windows;

/// <summary>
/// The wire form of <see cref="WindowResult"/>, with snake_case fields. Time and count windows
/// (topic <c>user-window-counts</c>) carry <c>window_start</c>/<c>window_end</c>; sessions (topic
/// <c>user-sessions</c>) carry <c>start</c>/<c>end</c> and <c>duration_s</c>, as a session reads.
/// </summary>
public static class WindowResultJson
{
    public static byte[] Serialize(WindowResult result)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("result_id", result.ResultId);
            w.WriteString("kind", result.Kind);
            w.WriteString("user_id", result.UserId);
            if (result.IsSession)
            {
                w.WriteString("start", TransactionJson.FormatTimestamp(result.WindowStart));
                w.WriteString("end", TransactionJson.FormatTimestamp(result.WindowEnd));
                w.WriteNumber("duration_s", result.DurationSeconds);
            }
            else
            {
                w.WriteString("window_start", TransactionJson.FormatTimestamp(result.WindowStart));
                w.WriteString("window_end", TransactionJson.FormatTimestamp(result.WindowEnd));
            }

            w.WriteNumber("count", result.Count);
            w.WriteNumber("total_amount", result.TotalAmount.Normalize());
            w.WriteString("emitted_at", TransactionJson.FormatTimestamp(result.EmittedAt));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads either shape back; throws <see cref="FormatException"/> naming the bad or missing field.</summary>
    public static WindowResult Deserialize(ReadOnlySpan<byte> utf8)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a window result: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"not a window result: a JSON {root.ValueKind} instead of an object");
            }

            var kind = Read(root, "kind", e => e.GetString()!);
            if (kind is not (WindowKinds.Tumbling or WindowKinds.Sliding or WindowKinds.Session or WindowKinds.Count))
            {
                throw new FormatException($"not a window result: field 'kind' is '{kind}', not a window kind");
            }

            var session = kind == WindowKinds.Session;
            var start = Read(root, session ? "start" : "window_start", e => e.GetDateTimeOffset());
            var end = Read(root, session ? "end" : "window_end", e => e.GetDateTimeOffset());
            var result = new WindowResult(
                ResultId: Read(root, "result_id", e => e.GetString()!),
                Kind: kind,
                UserId: Read(root, "user_id", e => e.GetString()!),
                WindowStart: start,
                WindowEnd: end,
                Count: Read(root, "count", e => e.GetInt64()),
                TotalAmount: Read(root, "total_amount", e => e.GetDecimal()),
                EmittedAt: Read(root, "emitted_at", e => e.GetDateTimeOffset()));
            if (session && Read(root, "duration_s", e => e.GetInt64()) != result.DurationSeconds)
            {
                throw new FormatException($"not a window result: field 'duration_s' does not match start and end ({result.DurationSeconds} s)");
            }

            return result;
        }
    }

    private static T Read<T>(JsonElement root, string name, Func<JsonElement, T> read)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new FormatException($"not a window result: field '{name}' is missing");
        }

        try
        {
            return read(value);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new FormatException($"not a window result: field '{name}' is not valid ({value.GetRawText()})", e);
        }
    }
}
