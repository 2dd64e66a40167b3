using FraudActors.Messages.Sharding;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Commands;

/// <summary>
/// Apply the transaction read at <paramref name="Offset"/> of <paramref name="Partition"/> to its user.
/// <paramref name="Generation"/> counts the partition's rewinds: a user that sees a newer one
/// reloads its last checkpointed state before applying.
/// </summary>
public sealed record ApplyTransaction(int Partition, long Offset, Transaction Transaction, long Generation = 0) : IUserMessage
{
    public string UserId => Transaction.UserId;
}
