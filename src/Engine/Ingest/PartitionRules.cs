using FraudActors.Messages.Rules;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// The rules in force in one partition during a run (docs/design.md, "Dynamic rules"): what its
/// last commit recorded, then the changes adopted since, each from an offset where the stream
/// stood at the stream's turn (the partition's start, or a checkpoint's cut), and recorded by
/// the commit of that cut. A rule whose <see cref="RuleInForce.SinceEpoch"/> is null is adopted
/// but not yet recorded. Adopted and cut at the stream's turn, recorded from the commit stage.
/// </summary>
internal sealed class PartitionRules
{
    private readonly object _gate = new();
    private RecordedRules _inForce;

    private PartitionRules(RecordedRules inForce)
    {
        _inForce = inForce;
        Set = inForce.ToSet();
    }

    /// <summary>The rules the partition's records are stamped with.</summary>
    public RuleSet Set { get; private set; }

    /// <summary>
    /// The first offset at which a change may take effect: after a restart from a checkpoint, the
    /// records up to the partition's end may have raised visible alerts under the rules that
    /// checkpoint recorded, so a change not recorded before waits until past them.
    /// </summary>
    public long NotBefore { get; init; }

    /// <summary>A change waits for the record at <see cref="NotBefore"/> (set at a restart, cleared by the adoption).</summary>
    public bool Waiting { get; set; }

    /// <summary>The first record after the start was seen (the check that asks for a checkpoint when rules wait for one).</summary>
    public bool Started { get; set; }

    public RecordedRules InForce
    {
        get
        {
            lock (_gate)
            {
                return _inForce;
            }
        }
    }

    /// <summary>Whether a commit holds every rule in force.</summary>
    public bool IsRecorded => InForce.Rules.All(r => r.SinceEpoch is not null);

    /// <summary>
    /// The rules a partition resumes with: those its last commit recorded or, when it recorded
    /// none (a new partition, or a journal from before rules could change), the configured ones,
    /// as the builds before applied them.
    /// </summary>
    /// <remarks>
    /// A partition without any commit (<paramref name="epoch"/> null) has nothing recorded: its
    /// rules count as not recorded until its first commit, and its alerts wait for that commit,
    /// since a change read before it must be free to apply from the partition's start.
    /// </remarks>
    public static PartitionRules Restored(RecordedRules? recorded, RuleSet configured, long? epoch, long nextOffset, long notBefore) =>
        new(recorded ?? new RecordedRules([.. configured.Specs.Select(s => new RuleInForce(s, nextOffset, epoch))])) { NotBefore = notBefore };

    /// <summary>
    /// Moves to <paramref name="desired"/> from <paramref name="offset"/> on: rules that differ
    /// take effect there, unrecorded; the others keep where they took effect. False when nothing differs.
    /// </summary>
    public bool Adopt(RuleSet desired, long offset)
    {
        if (desired.SameAs(Set))
        {
            return false;
        }

        lock (_gate)
        {
            _inForce = new RecordedRules([.. desired.Specs.Select(spec =>
                _inForce.Rules.FirstOrDefault(r => r.Spec.SameAs(spec)) ?? new RuleInForce(spec, offset, null))]);
        }

        Set = desired;
        return true;
    }

    /// <summary>
    /// What the cut of epoch <paramref name="epoch"/> records: the rules in force, the unrecorded
    /// ones marked with that epoch; and the offset of the latest change it records (null: none).
    /// </summary>
    public (RecordedRules Rules, long? Adopted) ForCut(long epoch)
    {
        var inForce = InForce;
        var adopted = inForce.Rules.Where(r => r.SinceEpoch is null).Select(r => (long?)r.SinceOffset).Max();
        return (new RecordedRules([.. inForce.Rules.Select(r => r.SinceEpoch is null ? r with { SinceEpoch = epoch } : r)]), adopted);
    }

    /// <summary>The commit of <paramref name="written"/> is durable: the rules it holds are recorded (a change adopted after its cut is not).</summary>
    public void Committed(RecordedRules written)
    {
        lock (_gate)
        {
            _inForce = new RecordedRules([.. _inForce.Rules.Select(r =>
                r.SinceEpoch is null && written.Rules.FirstOrDefault(w => w.Spec.SameAs(r.Spec) && w.SinceOffset == r.SinceOffset) is { } recorded ? recorded : r)]);
        }
    }
}
