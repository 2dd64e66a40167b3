using System.Globalization;
using FraudActors.Engine.Checkpoints;

namespace FraudActors.Service.Http;

// The HTTP API's JSON shapes; property names become snake_case (the dashboard reads them).

public sealed record JobView(string Id, string Name, string State, string Started)
{
    public static JobView Of(FraudJob job) => new(job.Id, job.Name, job.State, Iso(job.Started));

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

public sealed record JobList(IReadOnlyList<JobView> Jobs);

public sealed record JobDetail(string Id, string Name, string State, string Started, CheckpointCounts Checkpoints, IReadOnlyList<PartitionView> Partitions);

public sealed record CheckpointCounts(long Completed, long Failed, int InProgress);

public sealed record CheckpointView(long Epoch, int Partition, string Started, long DurationMs, int Users, long Bytes, long NextOffset, string Status, string? Error)
{
    public static CheckpointView Of(CheckpointRecord r) => new(
        r.Epoch,
        r.Partition,
        JobView.Iso(r.Started),
        (long)r.Duration.TotalMilliseconds,
        r.UsersPersisted,
        r.Bytes,
        r.NextOffset,
        r.Status == CheckpointStatus.Completed ? "completed" : "failed",
        r.Failure);
}

public sealed record LatestCheckpoints(CheckpointView? Completed, CheckpointView? Failed);

public sealed record CheckpointsView(CheckpointCounts Counts, LatestCheckpoints Latest, IReadOnlyList<CheckpointView> History);

/// <param name="CurrentOffset">The next offset the source will emit.</param>
/// <param name="CommittedOffset">The last checkpoint's next offset.</param>
/// <param name="EndOffset">The partition's high watermark in Kafka; null when Kafka did not answer.</param>
/// <param name="Lag">End minus committed (end before the first checkpoint); null when Kafka did not answer.</param>
public sealed record PartitionView(string Topic, int Partition, long? CurrentOffset, long? CommittedOffset, long? EndOffset, long? Lag, string? Watermark)
{
    internal string PartitionLabel => Partition.ToString(CultureInfo.InvariantCulture);
}

public sealed record PartitionList(IReadOnlyList<PartitionView> Partitions);

public sealed record Overview(
    string Node,
    IReadOnlyList<string> ClusterMembers,
    double UptimeS,
    string JobState,
    long RecordsIn,
    double RecordsInPerS,
    double RecordsOutPerS,
    long Alerts,
    long Dlq,
    long Late,
    long WindowResults);

public sealed record Health(string Status);

public sealed record Readiness(string Status, IReadOnlyList<string> Missing);
