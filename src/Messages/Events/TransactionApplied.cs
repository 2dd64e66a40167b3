using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;

namespace FraudActors.Messages.Events;

/// <summary>
/// The user actor's reply to <see cref="Commands.ApplyTransaction"/>. <paramref name="Duplicate"/> is
/// true when the offset was already applied (a replay): the state did not change, and
/// <paramref name="Alerts"/> repeats what that record raised the first time, same ids.
/// </summary>
public sealed record TransactionApplied(string UserId, int Partition, long Offset, IReadOnlyList<Alert> Alerts, bool Duplicate)
{
    /// <summary>Window results the record's clock closed (and a count window it filled).</summary>
    public IReadOnlyList<WindowResult> Windows { get; init; } = [];

    /// <summary>When the user next needs waking: its earliest timer or window end; null when none.</summary>
    public long? NextTimerMs { get; init; }

    /// <summary>The applied command's <see cref="Commands.ApplyTransaction.Sequence"/>.</summary>
    public long Sequence { get; init; }

    /// <summary>The record's <c>tx_id</c> was already applied within the dedup window: nothing saw it, it goes to the dead-letter topic.</summary>
    public bool DuplicateTxId { get; init; }

    /// <summary>
    /// Applying the record threw (a rule, window, state or codec): the user's state is as before
    /// the record, and the record goes to the dead-letter topic with this as its error (the
    /// exception's type and message). Null when the record was applied.
    /// </summary>
    public string? ProcessingError { get; init; }

    /// <summary>
    /// The user missed a record sent before this one (its last applied offset is not the
    /// command's <see cref="Commands.ApplyTransaction.PreviousOffset"/>): nothing was applied, and
    /// the run must fail and rewind its partition to the last commit. Null otherwise.
    /// </summary>
    public string? Lost { get; init; }
}

/// <summary>The user actor's reply to <see cref="Commands.AdvanceTime"/>: what fired, and when it next needs waking.</summary>
public sealed record TimeAdvanced(string UserId, int Partition, IReadOnlyList<WindowResult> Windows, long? NextTimerMs)
{
    /// <summary>Why the user fired nothing: a record sent to it in this run never reached it (the run fails and rewinds).</summary>
    public string? Lost { get; init; }
}
