using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// Who writes a partition's checkpoints, decided in the store (docs/design.md, "One cluster per
/// job"): a node that starts reading a partition takes the partition's next epoch, and before
/// each checkpoint of it checks that the epoch is still its own. A node that finds a newer one
/// lost the partition while it was frozen, split off, downed or in another cluster of the job:
/// it is fenced — it writes no checkpoint of that partition, takes no partition again, and its
/// <see cref="Fenced"/> completes so that the node stops reading and exits. Between the check
/// and the write, the journal's unique sequence numbers refuse the second of two writers.
/// </summary>
public sealed class PartitionFence(SqlDatabase database, string job, string owner)
{
    private readonly ConcurrentDictionary<int, long> _held = new();
    private readonly TaskCompletionSource<string> _fenced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes, saying which partition and who holds it now, when this node lost one.</summary>
    public Task<string> Fenced => _fenced.Task;

    /// <summary>Creates the table of epochs in <paramref name="database"/> if it is not there.</summary>
    public static Task CreateTableAsync(SqlDatabase database, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var create = SqlDatabase.Command(connection, CreateTable);
                create.Transaction = transaction;
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    /// <summary>
    /// This node reads <paramref name="partition"/> from now on: it takes the partition's next
    /// epoch. Once fenced it takes none (it would take a partition back from its new owner).
    /// </summary>
    public async Task<long> TakeAsync(int partition, CancellationToken cancellationToken)
    {
        if (_fenced.Task.IsCompleted)
        {
            throw new InvalidOperationException($"fenced: {await _fenced.Task.ConfigureAwait(false)}; this node takes no partition again");
        }

        var epoch = await database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var take = Command(connection, transaction, partition, """
                    INSERT INTO fraud_partition_owners (job, partition_id, epoch, owner) VALUES (@job, @partition, 1, @owner)
                    ON CONFLICT (job, partition_id) DO UPDATE SET epoch = fraud_partition_owners.epoch + 1, owner = @owner
                    RETURNING epoch
                    """);
                return Convert.ToInt64(await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken,
            atomic: true).ConfigureAwait(false);
        _held[partition] = epoch;
        return epoch;
    }

    /// <summary>
    /// Null while this node's epoch of <paramref name="partition"/> is the partition's (or it
    /// took none here); otherwise who holds it now, and this fence is closed for good.
    /// </summary>
    public async Task<string?> TakenOverAsync(int partition, CancellationToken cancellationToken)
    {
        if (!_held.TryGetValue(partition, out var epoch))
        {
            return null;
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var read = Command(connection, null, partition, "SELECT epoch, owner FROM fraud_partition_owners WHERE job = @job AND partition_id = @partition");
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var lost = !await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? $"partition {partition} of job {job}: its owner row is gone (this node's epoch {epoch})"
            : reader.GetInt64(0) == epoch
                ? null
                : $"partition {partition} of job {job} was taken over by {reader.GetString(1)} (epoch {reader.GetInt64(0)}, this node's {epoch})";
        if (lost is not null)
        {
            _fenced.TrySetResult(lost);
        }

        return lost;
    }

    private DbCommand Command(DbConnection connection, DbTransaction? transaction, int partition, string sql)
    {
        var command = SqlDatabase.Command(connection, sql, ("job", job), ("partition", partition), ("owner", owner));
        command.Transaction = transaction;
        return command;
    }

    private const string CreateTable =
        """
        CREATE TABLE IF NOT EXISTS fraud_partition_owners (
            job TEXT NOT NULL,
            partition_id INTEGER NOT NULL,
            epoch BIGINT NOT NULL,
            owner TEXT NOT NULL,
            PRIMARY KEY (job, partition_id))
        """;
}
