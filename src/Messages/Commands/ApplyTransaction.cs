using FraudActors.Messages.Sharding;
using FraudActors.Messages.Transactions;

namespace FraudActors.Messages.Commands;

/// <summary>Apply the transaction read at <paramref name="Offset"/> of <paramref name="Partition"/> to its user.</summary>
public sealed record ApplyTransaction(int Partition, long Offset, Transaction Transaction) : IUserMessage
{
    public string UserId => Transaction.UserId;
}
