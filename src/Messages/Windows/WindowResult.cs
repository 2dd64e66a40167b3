using System.Globalization;

namespace FraudActors.Messages.Windows;

/// <summary>The window kinds of docs/design.md, section 1, as they appear in a result's <c>kind</c> field.</summary>
public static class WindowKinds
{
    public const string Tumbling = "tumbling";
    public const string Sliding = "sliding";
    public const string Session = "session";
    public const string Count = "count";
}

/// <summary>
/// One window's result for one user, published once when the watermark passes the window's end
/// (count windows: when the window is full). <see cref="ResultId"/> is deterministic —
/// <c>kind:user:start:end</c> for time windows, <c>session:user:start</c> for sessions,
/// <c>count:user:n</c> for the n-th count window — so a replay after a crash yields the same id
/// and the outbox publishes it once. Times are event time (processing time in that mode).
/// </summary>
public sealed record WindowResult(
    string ResultId,
    string Kind,
    string UserId,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    long Count,
    decimal TotalAmount,
    DateTimeOffset EmittedAt)
{
    /// <summary>A session's length from its first to its last transaction, in whole seconds.</summary>
    public long DurationSeconds => (long)(WindowEnd - WindowStart).TotalSeconds;

    public bool IsSession => Kind == WindowKinds.Session;

    /// <summary>The console's line, beside the lecture's ALERT line: <c>WINDOW tumbling user=u901 09:00:00–09:05:00 count=16 total=843.2</c>.</summary>
    public string ToConsoleLine() =>
        string.Create(CultureInfo.InvariantCulture, $"WINDOW {Kind} user={UserId} {WindowStart:HH:mm:ss}–{WindowEnd:HH:mm:ss} count={Count} total={TotalAmount}");

    public static string TimeWindowId(string kind, string userId, long startMs, long endMs) =>
        string.Create(CultureInfo.InvariantCulture, $"{kind}:{userId}:{startMs}:{endMs}");

    public static string SessionId(string userId, long firstMs) =>
        string.Create(CultureInfo.InvariantCulture, $"{WindowKinds.Session}:{userId}:{firstMs}");

    public static string CountWindowId(string userId, long ordinal) =>
        string.Create(CultureInfo.InvariantCulture, $"{WindowKinds.Count}:{userId}:{ordinal}");
}
