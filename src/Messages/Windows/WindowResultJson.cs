using FraudActors.Messages.Alerts;
using FraudActors.Messages.Serialization;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Windows;

/// <summary>
/// The wire form of <see cref="WindowResult"/>, with snake_case fields. Time and count windows
/// (topic <c>user-window-counts</c>) carry <c>window_start</c>/<c>window_end</c>; sessions (topic
/// <c>user-sessions</c>) carry <c>start</c>/<c>end</c> and <c>duration_s</c>, as a session reads.
/// </summary>
public static class WindowResultJson
{
    private const string What = "a window result";

    public static byte[] Serialize(WindowResult result) => WireJson.Write(w =>
    {
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
    });

    /// <summary>Reads either shape back; throws <see cref="FormatException"/> naming the bad or missing field.</summary>
    public static WindowResult Deserialize(ReadOnlySpan<byte> utf8) => WireJson.Read(utf8, What, Read);

    private static WindowResult Read(WireJson.Fields f)
    {
        var kind = f.Required("kind", e => e.GetString()!);
        if (kind is not (WindowKinds.Tumbling or WindowKinds.Sliding or WindowKinds.Session or WindowKinds.Count))
        {
            throw f.Invalid($"field 'kind' is '{kind}', not a window kind");
        }

        var session = kind == WindowKinds.Session;
        var result = new WindowResult(
            ResultId: f.Required("result_id", e => e.GetString()!),
            Kind: kind,
            UserId: f.Required("user_id", e => e.GetString()!),
            WindowStart: f.Required(session ? "start" : "window_start", e => e.GetDateTimeOffset()),
            WindowEnd: f.Required(session ? "end" : "window_end", e => e.GetDateTimeOffset()),
            Count: f.Required("count", e => e.GetInt64()),
            TotalAmount: f.Required("total_amount", e => e.GetDecimal()),
            EmittedAt: f.Required("emitted_at", e => e.GetDateTimeOffset()));
        if (session && f.Required("duration_s", e => e.GetInt64()) != result.DurationSeconds)
        {
            throw f.Invalid($"field 'duration_s' does not match start and end ({result.DurationSeconds} s)");
        }

        return result;
    }
}
