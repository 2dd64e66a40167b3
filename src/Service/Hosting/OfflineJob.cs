using System.Globalization;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Storage;
using FraudActors.Service.Configuration;
using Npgsql;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Holds a stopped job offline for a tool that rewrites its partition journals
/// (<c>fraud rescale</c>), or refuses, naming the node still alive. What it checks is what the
/// nodes themselves leave in the store (docs/design.md, "One cluster per job"):
/// <list type="bullet">
/// <item>SQLite: the file's lock, taken as a node takes it and held until the tool ends, so no
/// node can start meanwhile either;</item>
/// <item>PostgreSQL: the job's members table (a heartbeat younger than the lease is a live node)
/// and the job's join lock (a node starting now holds it), taken and held so that no node joins
/// through the store meanwhile;</item>
/// <item>both: <see cref="TakePartitionsAsync"/> takes every partition's fence epoch, so a node the
/// store did not show (one started with <c>--seed-nodes</c> skips the members table) is fenced
/// at its next checkpoint: it writes nothing more and exits.</item>
/// </list>
/// </summary>
internal sealed class OfflineJob : IAsyncDisposable
{
    private readonly FraudSettings _settings;
    private readonly SqliteOwnership? _sqlite;
    private readonly NpgsqlConnection? _joinLock;

    private OfflineJob(FraudSettings settings, SqliteOwnership? sqlite, NpgsqlConnection? joinLock)
    {
        _settings = settings;
        _sqlite = sqlite;
        _joinLock = joinLock;
    }

    /// <summary>Who takes the fences: this process.</summary>
    public static string Owner { get; } = string.Create(CultureInfo.InvariantCulture, $"fraud rescale (process {Environment.ProcessId} on {Environment.MachineName})");

    /// <exception cref="ConfigurationException">A node of the job is alive (exit 2).</exception>
    public static async Task<OfflineJob> TakeAsync(FraudSettings settings, CancellationToken cancellationToken)
    {
        var job = ClusterMembership.JobKey(settings);
        if (settings.Store == JournalStore.Sqlite)
        {
            try
            {
                return new OfflineJob(settings, SqliteOwnership.Take(settings.Connection), null);
            }
            catch (ConfigurationException e)
            {
                throw new ConfigurationException($"a node of job {job} is running: {e.Message}");
            }
        }

        var connection = new NpgsqlConnection(settings.Connection);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('fraud-members:' || @job))", connection))
            {
                take.Parameters.AddWithValue("job", job);
                if (!(bool)(await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                {
                    throw new ConfigurationException($"a node of job {job} is joining its cluster right now (it holds the job's join lock in the store): stop it first");
                }
            }

            var live = await LiveMembersAsync(connection, job, cancellationToken).ConfigureAwait(false);
            if (live.Count > 0)
            {
                throw new ConfigurationException(
                    $"a node of job {job} is running: {string.Join(", ", live)} (heartbeat in fraud_cluster_members under {StoreDiscovery.Lease.TotalSeconds:0} s old); stop the job with a final checkpoint first (Ctrl-C, SIGTERM or PATCH /jobs/{{id}}?mode=stop), or wait {StoreDiscovery.Lease.TotalSeconds:0} s after a node that died");
            }

            return new OfflineJob(settings, null, connection);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Takes the next fence epoch of partitions 0 … <paramref name="partitions"/> - 1: a node that still held one is fenced.</summary>
    public async Task TakePartitionsAsync(int partitions, CancellationToken cancellationToken)
    {
        var database = _settings.Store == JournalStore.Postgres ? SqlDatabase.PostgreSql(_settings.Connection) : SqlDatabase.Sqlite(_settings.Connection);
        await PartitionFence.CreateTableAsync(database, cancellationToken).ConfigureAwait(false);
        var fence = new PartitionFence(database, ClusterMembership.JobKey(_settings), Owner);
        for (var partition = 0; partition < partitions; partition++)
        {
            await fence.TakeAsync(partition, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sqlite?.Dispose();
        if (_joinLock is not null)
        {
            // Closing the session releases its advisory lock.
            await _joinLock.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<List<string>> LiveMembersAsync(NpgsqlConnection connection, string job, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('fraud_cluster_members') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            return [];
        }

        await using var select = new NpgsqlCommand(
            "SELECT address FROM fraud_cluster_members WHERE job = @job AND heartbeat_at > now() - make_interval(secs => @lease) ORDER BY started_at",
            connection);
        select.Parameters.AddWithValue("job", job);
        select.Parameters.AddWithValue("lease", StoreDiscovery.Lease.TotalSeconds);
        var members = new List<string>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            members.Add(reader.GetString(0));
        }

        return members;
    }
}
