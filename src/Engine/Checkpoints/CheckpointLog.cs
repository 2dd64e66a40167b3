using System.Globalization;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints;

/// <summary>Where the checkpoint history is kept beyond the process, for <c>fraud checkpoints</c>.</summary>
public interface ICheckpointLog
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task AddAsync(CheckpointRecord record, CancellationToken cancellationToken);

    /// <summary>The newest records, newest first.</summary>
    Task<IReadOnlyList<CheckpointRecord>> RecentAsync(int limit, CancellationToken cancellationToken);
}

/// <summary>The <c>checkpoints</c> table, beside the partition journals and the alerts table.</summary>
public sealed class SqlCheckpointLog(SqlDatabase database) : ICheckpointLog
{
    public Task InitializeAsync(CancellationToken cancellationToken) => database.ExecuteAsync(
        $"""
        CREATE TABLE IF NOT EXISTS checkpoints (
            id {(database.IsPostgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT")},
            epoch BIGINT NOT NULL,
            partition_id INTEGER NOT NULL,
            started TEXT NOT NULL,
            duration_ms BIGINT NOT NULL,
            users INTEGER NOT NULL,
            bytes BIGINT NOT NULL,
            next_offset BIGINT NOT NULL,
            status TEXT NOT NULL,
            failure TEXT NULL)
        """,
        cancellationToken);

    public Task AddAsync(CheckpointRecord record, CancellationToken cancellationToken) => database.ExecuteAsync(
        "INSERT INTO checkpoints (epoch, partition_id, started, duration_ms, users, bytes, next_offset, status, failure) VALUES (@epoch, @partition, @started, @duration, @users, @bytes, @next, @status, @failure)",
        cancellationToken,
        ("epoch", record.Epoch),
        ("partition", record.Partition),
        ("started", record.Started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)),
        ("duration", (long)record.Duration.TotalMilliseconds),
        ("users", record.UsersPersisted),
        ("bytes", record.Bytes),
        ("next", record.NextOffset),
        ("status", record.Status.ToString()),
        ("failure", (object?)record.Failure ?? DBNull.Value));

    public async Task<IReadOnlyList<CheckpointRecord>> RecentAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = SqlDatabase.Command(
            connection,
            "SELECT epoch, partition_id, started, duration_ms, users, bytes, next_offset, status, failure FROM checkpoints ORDER BY id DESC LIMIT @limit",
            ("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<CheckpointRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(new CheckpointRecord(
                reader.GetInt64(0),
                reader.GetInt32(1),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
                TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                reader.GetInt32(4),
                reader.GetInt64(5),
                reader.GetInt64(6),
                Enum.Parse<CheckpointStatus>(reader.GetString(7)),
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return records;
    }
}
