using FraudActors.Messages.Rules;
using FraudActors.Messages.Sharding;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Commands;

/// <summary>
/// Apply the transaction read at <paramref name="Offset"/> of <paramref name="Partition"/> to its user.
/// <paramref name="Generation"/> names the run of the stream that sent it (each run, on any
/// node, has its own): a user that sees another one reloads its last checkpointed state before
/// applying, since a new run starts from the partition's last checkpoint.
/// </summary>
/// <remarks>
/// The partition's event-time clock travels with the record, computed in stream order so a
/// replay sees the same values: the user fires its timers and windows up to
/// <see cref="WatermarkBeforeMs"/>, applies the record, then fires up to <see cref="WatermarkMs"/>.
/// Without them (<see cref="long.MinValue"/>) no timer fires.
/// </remarks>
public sealed record ApplyTransaction(int Partition, long Offset, Transaction Transaction, long Generation = 0) : IUserMessage
{
    public string UserId => Transaction.UserId;

    /// <summary>The time rules and windows use: the event time, or the processing time in that mode.</summary>
    public long TimeMs { get; init; } = Transaction.EventTimeMs;

    /// <summary>The partition's watermark before this record.</summary>
    public long WatermarkBeforeMs { get; init; } = long.MinValue;

    /// <summary>The partition's watermark after this record.</summary>
    public long WatermarkMs { get; init; } = long.MinValue;

    /// <summary>Processing time when the record was read, for processing-time timers.</summary>
    public long NowMs { get; init; }

    /// <summary>Behind the watermark by more than the allowed lateness: rules see it, time windows do not (it went to the late side output).</summary>
    public bool Late { get; init; }

    /// <summary>The pipeline's number for this send, echoed in <see cref="Events.TransactionApplied.Sequence"/> so one reply target serves every record in flight.</summary>
    public long Sequence { get; init; }

    /// <summary>
    /// The offset of the record of this partition sent to the same user just before this one,
    /// within the same run and checkpoint interval; null when none was (or only its clock woke
    /// it). A user whose last applied offset is not this one missed a record in transit — or
    /// restarted without its state — and applies nothing more of the run (docs/design.md,
    /// section 4, step 3).
    /// </summary>
    public long? PreviousOffset { get; init; }

    /// <summary>
    /// The rules in force in the partition at this record (docs/design.md, "Dynamic rules"):
    /// stamped in stream order, so a replay applies the same ones; null: the user's configured rules.
    /// </summary>
    public RuleSet? Rules { get; init; }
}
