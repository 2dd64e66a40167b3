using System.Globalization;
using Akka.Actor;
using Confluent.Kafka;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Storage;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Queries;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Hosting;

/// <param name="CurrentOffset">The next offset the source will emit.</param>
/// <param name="CommittedOffset">The last checkpoint's next offset.</param>
/// <param name="EndOffset">The partition's high watermark in Kafka; null when Kafka did not answer.</param>
/// <param name="Lag">End minus committed (end before the first checkpoint); null when Kafka did not answer.</param>
public sealed record PartitionView(string Topic, int Partition, long? CurrentOffset, long? CommittedOffset, long? EndOffset, long? Lag, string? Watermark)
{
    internal string PartitionLabel => Partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>A time as the API writes it: UTC, ISO 8601, milliseconds.</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>A user's live state and the partition that holds it.</summary>
public sealed record UserSnapshot(int Partition, UserState State);

/// <summary>
/// What a running node answers about itself: where its partitions stand, a user's live state,
/// its members, and what keeps it from being ready. The HTTP API and the metrics ask it.
/// </summary>
public sealed class NodeQueries(FraudSettings settings, NodeStores stores, NodeLifecycle lifecycle, PipelineMetrics metrics, FraudJob job) : IDisposable
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

    private readonly KafkaEndOffsets _endOffsets = new(settings.Bootstrap, KafkaClientConfigs.ConsumerProperties(settings));

    /// <summary>The node's state store and cache; null before its actor system runs.</summary>
    public Engine.Checkpoints.Store.UserStateStores? StateStores =>
        lifecycle.IsStarted ? Engine.Checkpoints.Store.UserStateStores.For(lifecycle.System) : null;

    /// <summary>This node's cluster address as host:port.</summary>
    public string NodeAddress => Akka.Cluster.Cluster.Get(lifecycle.System).SelfAddress is var a ? $"{a.Host}:{a.Port}" : string.Empty;

    public IReadOnlyList<string> ClusterMembers() =>
        [.. Akka.Cluster.Cluster.Get(lifecycle.System).State.Members.Select(m => m.Address.ToString())];

    /// <summary>Where each assigned partition stands: offsets, lag against Kafka's end offsets, watermark.</summary>
    public async Task<IReadOnlyList<PartitionView>> PartitionsAsync(CancellationToken cancellationToken)
    {
        var positions = metrics.Partitions.Snapshot();
        var topic = settings.Topics.Transactions;
        IReadOnlyDictionary<int, long>? ends = null;
        try
        {
            ends = await Task.Run(() => _endOffsets.Query(topic, positions.Select(p => p.Partition), QueryTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException)
        {
            // Kafka did not answer: end offsets and lag are unknown (null); /readyz says why.
        }

        return [.. positions.Select(p =>
        {
            long? end = ends is not null && ends.TryGetValue(p.Partition, out var e) ? e : null;
            return new PartitionView(
                topic,
                p.Partition,
                p.CurrentOffset,
                p.CommittedOffset,
                end,
                end is { } high ? Math.Max(0, high - (p.CommittedOffset ?? 0)) : null,
                p.WatermarkMs is { } w ? PartitionView.Iso(DateTimeOffset.FromUnixTimeMilliseconds(w)) : null);
        })];
    }

    /// <summary>
    /// A user's live state, asked of its actor; null for a user with no state here. Its shard is
    /// its partition: known for users that received records lately, else found by asking the
    /// assigned partitions' journals for its checkpointed state.
    /// </summary>
    public async Task<UserSnapshot?> UserAsync(string userId, CancellationToken cancellationToken)
    {
        var (users, journals) = lifecycle.Shards;
        var partition = metrics.Partitions.PartitionOf(userId);
        if (partition is null)
        {
            foreach (var p in metrics.Partitions.Assigned)
            {
                var loaded = await journals.For(p).Ask<UserLoaded>(new LoadUser(userId), QueryTimeout, cancellationToken).ConfigureAwait(false);
                if (loaded.State is not null)
                {
                    partition = p;
                    break;
                }
            }
        }

        if (partition is not { } found)
        {
            return null;
        }

        var current = await users.Ask<CurrentUserState>(new GetUserState(found, userId), QueryTimeout, cancellationToken).ConfigureAwait(false);
        return new UserSnapshot(found, UserStateCodec.Decode(current.State, settings.UserSettings));
    }

    /// <summary>What keeps this node from being ready (empty: ready): the job, Kafka, the database, assigned partitions.</summary>
    public async Task<IReadOnlyList<string>> NotReadyAsync(CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        if (job.State != FraudJob.Running)
        {
            missing.Add($"job: {job.State}");
        }

        var assigned = metrics.Partitions.Assigned;
        try
        {
            await Task.Run(() => _endOffsets.Query(settings.Topics.Transactions, assigned.Count > 0 ? assigned : [0], QueryTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            missing.Add($"kafka: {settings.Bootstrap} did not answer: {e.Error.Reason}");
        }

        if (stores.Database is { } database)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(QueryTimeout);
                await using var connection = await database.OpenAsync(timeout.Token).ConfigureAwait(false);
                await using var command = SqlDatabase.Command(connection, "SELECT 1");
                await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or OperationCanceledException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                missing.Add($"database: the {settings.Store} database is not reachable: {e.Message}");
            }
        }

        if (assigned.Count == 0)
        {
            missing.Add($"partitions: none of '{settings.Topics.Transactions}' assigned yet (consumer group '{settings.GroupId}')");
        }

        return missing;
    }

    /// <summary>User actors alive on this node, as its user hosts count them (no message: the region's statistics count hosts).</summary>
    public Task<int?> ActiveUsersAsync() => Task.FromResult<int?>(UserHostRegistry.Users(lifecycle.Shards.Users));

    public void Dispose() => _endOffsets.Dispose();
}
