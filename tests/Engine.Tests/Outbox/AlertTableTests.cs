using FraudActors.Engine.Alerts;
using FraudActors.Engine.Outbox;
using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Tests.Outbox;

/// <summary>The <c>alerts</c> table: every alert to the one alerts topic, keyed by its user.</summary>
public abstract class AlertTableSpec(Func<OutboxCodec<Alert>, IOutboxTable<Alert>> open) : OutboxTableSpec<Alert>(open)
{
    protected override OutboxCodec<Alert> Codec { get; } = AlertCodec.For("alerts");

    protected override Alert Sample(int i) =>
        new($"sliding-velocity:0:{i}", "sliding-velocity", $"u{i % 4}", 6, 60_000, 12.5m, new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero), 0, i, new DateTimeOffset(2026, 3, 17, 9, 0, 1, TimeSpan.Zero));

    protected override string IdOf(Alert record) => record.AlertId;

    protected override string KeyOf(Alert record) => record.UserId;

    protected override string TopicOf(Alert record) => "alerts";

    protected override Alert Read(byte[] payload) => AlertJson.Deserialize(payload);
}

public sealed class MemoryAlertTableTests() : AlertTableSpec(TestTables.Memory);

public sealed class SqliteAlertTableTests() : AlertTableSpec(TestTables.Sqlite);

public sealed class PostgreSqlAlertTableTests() : AlertTableSpec(TestTables.PostgreSql);
