using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rules;
using FraudActors.Messages.Rules;
using FraudActors.Service.Hosting;
using FraudActors.Service.Rules;

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

/// <summary><c>GET /rules</c>: the rules the topic asks for, and those in force in each partition read here.</summary>
public sealed record RulesView(IReadOnlyList<RuleView> Desired, IReadOnlyList<PartitionRuleSetView> Partitions)
{
    public static RulesView Of(RulesBoard board) => new(
        [.. board.Desired.Specs.Select(RuleView.Of)],
        [.. board.Partitions.Select(p => new PartitionRuleSetView(p.Partition, p.Recorded, [.. p.Rules.Rules.Select(RuleInForceView.Of)]))]);

    /// <summary>A rule's parameters as a JSON object of key to text, in key order.</summary>
    internal static IReadOnlyDictionary<string, string> Params(RuleSpec spec) => new SortedDictionary<string, string>(spec.Params.ToDictionary(), StringComparer.Ordinal);
}

/// <summary>A rule's settings and their version (0: the configuration's, else the rules topic's offset + 1).</summary>
public sealed record RuleView(string Rule, bool Enabled, IReadOnlyDictionary<string, string> Params, long Version)
{
    public static RuleView Of(RuleSpec spec) => new(spec.Name, spec.Enabled, RulesView.Params(spec), spec.Version);
}

/// <summary>The rules in force in one partition; <c>recorded</c> false while a change waits for the checkpoint that records it.</summary>
public sealed record PartitionRuleSetView(int Partition, bool Recorded, IReadOnlyList<RuleInForceView> Rules);

/// <summary>A rule in force in a partition: from which offset, recorded by the checkpoint of which epoch (null: not yet).</summary>
public sealed record RuleInForceView(string Rule, bool Enabled, IReadOnlyDictionary<string, string> Params, long Version, long SinceOffset, long? SinceEpoch)
{
    public static RuleInForceView Of(RuleInForce r) =>
        new(r.Spec.Name, r.Spec.Enabled, RulesView.Params(r.Spec), r.Spec.Version, r.SinceOffset, r.SinceEpoch);
}

/// <summary>
/// <c>PUT</c> or <c>DELETE /rules/{name}</c>: the settings written (for a DELETE, the configured
/// ones the rule returns to) and where the record landed; the rule's version is its offset + 1.
/// </summary>
public sealed record RulePublishedView(string Rule, bool Enabled, IReadOnlyDictionary<string, string> Params, string Topic, int Partition, long Offset, long Version)
{
    public static RulePublishedView Of(RuleSpec spec, RulePublished published) =>
        new(spec.Name, spec.Enabled, RulesView.Params(spec), published.Topic, published.Partition, published.Offset, published.Version);
}
