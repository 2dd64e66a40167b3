using System.Data.Common;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Outbox;

/// <summary>
/// Who publishes an outbox of a job, decided in the store (docs/design.md, "One cluster per
/// job"): a publisher that starts takes the next epoch of the job's outbox, and checks before
/// each batch that the epoch is still its own. One that finds a newer epoch was replaced — by
/// the publisher of another cluster of the job, or by its own cluster's next one while it was
/// frozen or split off — and is fenced: it publishes nothing more. Together with the Kafka
/// transactional id, which makes a real broker refuse the batch such a publisher has in flight,
/// no two publishers of a job put the same rows on the topic.
/// </summary>
public sealed class OutboxFence(SqlDatabase database, string job, string outbox, string owner)
{
    /// <summary>The job and outbox this fence guards, as the log names them.</summary>
    public override string ToString() => $"{job} {outbox}";

    /// <summary>Creates the table of epochs in <paramref name="database"/> if it is not there.</summary>
    public static Task CreateTableAsync(SqlDatabase database, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                await ExecuteAsync(connection, transaction, CreateTable, cancellationToken).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    /// <summary>Creates the table of epochs if it is not there.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => CreateTableAsync(database, cancellationToken);

    /// <summary>Takes the next epoch of the outbox for <c>owner</c>; a publisher holding an older one is fenced from its next batch on.</summary>
    public async Task<long> TakeAsync(CancellationToken cancellationToken) =>
        await database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var take = Command(connection, transaction, """
                    INSERT INTO fraud_outbox_owners (job, outbox, epoch, owner) VALUES (@job, @outbox, 1, @owner)
                    ON CONFLICT (job, outbox) DO UPDATE SET epoch = fraud_outbox_owners.epoch + 1, owner = @owner
                    RETURNING epoch
                    """);
                return Convert.ToInt64(await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            },
            cancellationToken,
            atomic: true).ConfigureAwait(false);

    /// <summary>Null while <paramref name="epoch"/> is still the outbox's; otherwise who holds it now.</summary>
    public async Task<string?> TakenOverAsync(long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var read = Command(connection, null, "SELECT epoch, owner FROM fraud_outbox_owners WHERE job = @job AND outbox = @outbox");
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return "nobody (the row is gone)";
        }

        return reader.GetInt64(0) == epoch ? null : $"{reader.GetString(1)} (epoch {reader.GetInt64(0)}, this publisher's {epoch})";
    }

    private DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = SqlDatabase.Command(connection, sql, ("job", job), ("outbox", outbox), ("owner", owner));
        command.Transaction = transaction;
        return command;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = SqlDatabase.Command(connection, sql);
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private const string CreateTable =
        """
        CREATE TABLE IF NOT EXISTS fraud_outbox_owners (
            job TEXT NOT NULL,
            outbox TEXT NOT NULL,
            epoch BIGINT NOT NULL,
            owner TEXT NOT NULL,
            PRIMARY KEY (job, outbox))
        """;
}
