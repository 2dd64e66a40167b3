using FraudActors.Engine.Checkpoints;
using FraudActors.Service.Hosting;

namespace FraudActors.Service.Http;

// The HTTP API's JSON shapes; property names become snake_case (the dashboard reads them).

public sealed record JobView(string Id, string Name, string State, string Started)
{
    public static JobView Of(FraudJob job) => new(job.Id, job.Name, job.State, Iso(job.Started));

    internal static string Iso(DateTimeOffset time) => PartitionView.Iso(time);
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
