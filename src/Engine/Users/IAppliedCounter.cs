namespace FraudActors.Engine.Users;

/// <summary>
/// A local reply target that counts records applied with nothing to report instead of receiving
/// a <see cref="Messages.Events.TransactionApplied"/> for each: most records raise no alert,
/// close no window and set no timer, and their completeness is what the barrier checks anyway
/// (docs/design.md, "Records one way"). A user on another node replies as before.
/// </summary>
internal interface IAppliedCounter
{
    /// <summary>The record of <paramref name="sequence"/> was applied; nothing else came of it.</summary>
    void Applied(long sequence);
}
