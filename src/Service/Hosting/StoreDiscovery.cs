using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Npgsql;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Nodes of one job on one PostgreSQL store find each other through it when no seed nodes are
/// given (docs/design.md, "One cluster per job"): a table of the job's members with heartbeats.
/// A starting node takes the job's advisory lock, so that nodes join one at a time, reads the
/// members whose heartbeat is fresh and whose port answers, and joins them — the first of a job
/// forms the cluster — and, once it is up, writes itself in and lets the next one in. It then
/// beats every <see cref="Beat"/>, and takes itself out when it stops. Two nodes that start
/// together therefore form one cluster: the second waits for the first to be up and joins it.
/// </summary>
/// <remarks>
/// The seed list starts with the node itself, then the members found: Akka's first-seed process
/// asks the others to let it join and forms a new cluster only if none answers within the seed
/// timeout, so a member that died since its last beat (its row still fresh) costs that timeout
/// at most, and a member whose port refuses a connection is not asked at all.
/// </remarks>
internal sealed class StoreDiscovery : IAsyncDisposable
{
    /// <summary>How often a member writes its heartbeat.</summary>
    public static readonly TimeSpan Beat = TimeSpan.FromSeconds(2);

    /// <summary>A member whose last heartbeat is older than this is not asked.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _store;
    private readonly string _job;
    private readonly string _self;
    private readonly ILoggingAdapter _log;
    private readonly CancellationTokenSource _stop = new();
    private Task _beating = Task.CompletedTask;

    private StoreDiscovery(NpgsqlDataSource store, string job, string self, ILoggingAdapter log)
    {
        _store = store;
        _job = job;
        _self = self;
        _log = log;
    }

    /// <summary>Creates the members table if it is not there: the node does it at start, under the schema lock, before it joins.</summary>
    public static async Task CreateTableAsync(string connection, CancellationToken cancellationToken)
    {
        await using var database = new NpgsqlConnection(connection);
        await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var create = new NpgsqlCommand(CreateTable, database);
        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Joins the cluster of <paramref name="job"/> found in the store (or forms it) and keeps this node's membership there.</summary>
    public static async Task<StoreDiscovery> JoinAsync(ActorSystem system, string connection, string job, ILoggingAdapter log, CancellationToken cancellationToken)
    {
        var cluster = Cluster.Get(system);
        var self = cluster.SelfAddress;
        var discovery = new StoreDiscovery(NpgsqlDataSource.Create(connection), job, self.ToString(), log);
        try
        {
            await discovery.JoinAsync(cluster, cancellationToken).ConfigureAwait(false);
            return discovery;
        }
        catch
        {
            await discovery.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task JoinAsync(Cluster cluster, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "SELECT pg_advisory_lock(hashtext('fraud-members:' || @job))", cancellationToken).ConfigureAwait(false);
        try
        {
            var members = await LiveMembersAsync(connection, cancellationToken).ConfigureAwait(false);
            var reachable = new List<Address>();
            foreach (var member in members)
            {
                if (await AnswersAsync(member, cancellationToken).ConfigureAwait(false))
                {
                    reachable.Add(member);
                }
                else
                {
                    _log.Info("Cluster discovery: {0} is in the store but its port refuses connections (a node that died since its last heartbeat): not asked", member);
                }
            }

            var up = MemberUp.Register(cluster.System);
            if (reachable.Count == 0)
            {
                _log.Info("Cluster discovery: no live node of job {0} in the store; this node forms the job's cluster", _job);
                await MemberUp.WaitAsync(cluster.System, cluster.JoinAsync(cluster.SelfAddress, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _log.Info("Cluster discovery: joining the job's cluster through the store at {0}", string.Join(", ", reachable));
                await MemberUp.WaitAsync(cluster.System, cluster.JoinSeedNodesAsync([cluster.SelfAddress, .. reachable], cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await MemberUp.WaitAsync(cluster.System, up.WaitAsync(JoinTimeout, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"cluster discovery: not a member of job {_job}'s cluster after {JoinTimeout.TotalSeconds:0} s (asked {string.Join(", ", reachable)}); is this node's address {cluster.SelfAddress} reachable from them (--node-hostname)?");
            }

            await using var insert = new NpgsqlCommand(Register, connection);
            insert.Parameters.AddWithValue("job", _job);
            insert.Parameters.AddWithValue("address", _self);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_unlock(hashtext('fraud-members:' || @job))", CancellationToken.None).ConfigureAwait(false);
        }

        _beating = Task.Run(() => BeatAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>The job's members with a fresh heartbeat, oldest first, this node's own address aside.</summary>
    private async Task<List<Address>> LiveMembersAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            """
            DELETE FROM fraud_cluster_members WHERE job = @job AND heartbeat_at < now() - interval '1 hour';
            SELECT address FROM fraud_cluster_members
            WHERE job = @job AND address <> @address AND heartbeat_at > now() - make_interval(secs => @lease)
            ORDER BY started_at
            """,
            connection);
        select.Parameters.AddWithValue("job", _job);
        select.Parameters.AddWithValue("address", _self);
        select.Parameters.AddWithValue("lease", Lease.TotalSeconds);
        var members = new List<Address>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            members.Add(Address.Parse(reader.GetString(0)));
        }

        return members;
    }

    /// <summary>True when the member's port accepts a connection (a dead process's port refuses at once).</summary>
    private static async Task<bool> AnswersAsync(Address member, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await client.ConnectAsync(member.Host!, member.Port!.Value, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A port that does not answer within the probe's time is asked anyway: Akka's seed timeout decides.
            return e is OperationCanceledException;
        }
    }

    private async Task BeatAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Beat);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            try
            {
                await using var beat = _store.CreateCommand(Register);
                beat.Parameters.AddWithValue("job", _job);
                beat.Parameters.AddWithValue("address", _self);
                await beat.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                _log.Warning("Cluster discovery: heartbeat not written ({0}); nodes starting now may not find this one", e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _beating.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await using var leave = _store.CreateCommand("DELETE FROM fraud_cluster_members WHERE job = @job AND address = @address");
            leave.Parameters.AddWithValue("job", _job);
            leave.Parameters.AddWithValue("address", _self);
            await leave.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // The row goes stale within the lease; the next node does not ask it.
        }

        await _store.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("job", _job);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private const string CreateTable =
        """
        CREATE TABLE IF NOT EXISTS fraud_cluster_members (
            job text NOT NULL,
            address text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (job, address))
        """;

    private const string Register =
        """
        INSERT INTO fraud_cluster_members (job, address) VALUES (@job, @address)
        ON CONFLICT (job, address) DO UPDATE SET heartbeat_at = now()
        """;
}
