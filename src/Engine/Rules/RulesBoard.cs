using System.Collections.Concurrent;
using FraudActors.Messages.Rules;

namespace FraudActors.Engine.Rules;

/// <summary>
/// A node's rules (docs/design.md, "Dynamic rules"): the configured ones, the ones the
/// <c>rules</c> topic asks for (<see cref="Desired"/>, each change raising
/// <see cref="Changed"/>), and what each partition read here has in force, for <c>GET /rules</c>.
/// The partitions move to <see cref="Desired"/> at their own pace, each at a point its
/// checkpoint records; this board only says where they stand.
/// </summary>
public sealed class RulesBoard
{
    private readonly ConcurrentDictionary<int, PartitionRulesView> _partitions = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RuleSet _desired;

    public RulesBoard(RuleSet configured)
    {
        Configured = configured;
        _desired = configured;
    }

    /// <summary>The configuration's rules (every one at version 0).</summary>
    public RuleSet Configured { get; }

    /// <summary>The rules the topic asks for: the configured ones with every valid record's settings over them.</summary>
    public RuleSet Desired
    {
        get
        {
            lock (_gate)
            {
                return _desired;
            }
        }
    }

    /// <summary>
    /// The end offset of a partition of the input topic (blocking; null: unknown): where a change
    /// of the rules may take effect in a partition resuming after a crash. Without it a change
    /// takes effect from the partition's resume offset.
    /// </summary>
    public Func<int, long>? EndOffset { get; init; }

    /// <summary>Completes once the whole <c>rules</c> topic, as it stood at start, has been read.</summary>
    public Task Loaded => _loaded.Task;

    /// <summary>The desired rules changed (called on the reader's thread).</summary>
    public event Action? Changed;

    /// <summary>Rule <paramref name="spec"/>.Name takes <paramref name="spec"/>'s settings and version; returns whether anything changed.</summary>
    public bool Set(RuleSpec spec)
    {
        lock (_gate)
        {
            if (_desired.Find(spec.Name) is { } current && current.SameAs(spec))
            {
                return false;
            }

            _desired = new RuleSet(_desired.Specs.Where(s => s.Name != spec.Name).Append(spec));
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>The topic has been read to where it stood at start.</summary>
    public void MarkLoaded() => _loaded.TrySetResult();

    /// <summary>Partition <paramref name="partition"/> has <paramref name="rules"/> in force (<paramref name="recorded"/>: a commit holds them).</summary>
    public void InForce(int partition, RecordedRules rules, bool recorded) => _partitions[partition] = new PartitionRulesView(partition, rules, recorded);

    /// <summary>The partition is no longer read here.</summary>
    public void Forget(int partition) => _partitions.TryRemove(partition, out _);

    /// <summary>The partitions read on this node, by number, with their rules in force.</summary>
    public IReadOnlyList<PartitionRulesView> Partitions => [.. _partitions.Values.OrderBy(p => p.Partition)];
}

/// <summary>
/// The rules in force in one partition: each with its version, the offset from which it applies
/// and the epoch of the checkpoint that recorded it; <see cref="Recorded"/> false while the last
/// change waits for the checkpoint that records it (its alerts wait with it).
/// </summary>
public sealed record PartitionRulesView(int Partition, RecordedRules Rules, bool Recorded);
