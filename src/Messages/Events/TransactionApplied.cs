using FraudActors.Messages.Alerts;

namespace FraudActors.Messages.Events;

/// <summary>
/// The user actor's reply to <see cref="Commands.ApplyTransaction"/>. <paramref name="Duplicate"/> is
/// true when the offset was already applied (a replay): the state did not change, and
/// <paramref name="Alerts"/> repeats what that record raised the first time, same ids.
/// </summary>
public sealed record TransactionApplied(string UserId, int Partition, long Offset, IReadOnlyList<Alert> Alerts, bool Duplicate);
