namespace FraudActors.Messages.Checkpoints;

/// <summary>
/// A user whose checkpointed state has a timer (or window end) due at <paramref name="DueMs"/>
/// (epoch milliseconds): after recovery it is woken even if no more of its records arrive.
/// </summary>
public sealed record UserTimerDue(string UserId, long DueMs);
