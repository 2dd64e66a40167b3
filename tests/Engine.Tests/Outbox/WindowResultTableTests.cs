using FraudActors.Engine.Outbox;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Tests.Outbox;

/// <summary>The <c>window_results</c> table: sessions to the sessions topic, the rest to the counts topic, each row keeping its topic.</summary>
public abstract class WindowResultTableSpec(Func<OutboxCodec<WindowResult>, IOutboxTable<WindowResult>> open) : OutboxTableSpec<WindowResult>(open)
{
    protected override OutboxCodec<WindowResult> Codec { get; } = WindowResultCodec.For("user-window-counts", "user-sessions");

    /// <summary>Every third result a session, the others tumbling windows, spread over a few users.</summary>
    protected override WindowResult Sample(int i)
    {
        var start = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero).AddMinutes(i);
        var user = $"u{i % 4}";
        return i % 3 == 2
            ? new WindowResult(WindowResult.SessionId(user, start.ToUnixTimeMilliseconds()), WindowKinds.Session, user, start, start.AddSeconds(42), 3, 7.5m, start.AddMinutes(2))
            : new WindowResult(
                WindowResult.TimeWindowId(WindowKinds.Tumbling, user, start.ToUnixTimeMilliseconds(), start.AddMinutes(1).ToUnixTimeMilliseconds()),
                WindowKinds.Tumbling,
                user,
                start,
                start.AddMinutes(1),
                i,
                12.5m,
                start.AddMinutes(1).AddSeconds(5));
    }

    protected override string IdOf(WindowResult record) => record.ResultId;

    protected override string KeyOf(WindowResult record) => record.UserId;

    protected override string TopicOf(WindowResult record) => record.IsSession ? "user-sessions" : "user-window-counts";

    protected override WindowResult Read(byte[] payload) => WindowResultJson.Deserialize(payload);
}

public sealed class MemoryWindowResultTableTests() : WindowResultTableSpec(TestTables.Memory);

public sealed class SqliteWindowResultTableTests() : WindowResultTableSpec(TestTables.Sqlite);

public sealed class PostgreSqlWindowResultTableTests() : WindowResultTableSpec(TestTables.PostgreSql);
