namespace FraudActors.Messages.Transactions;

/// <summary>
/// One card transaction as it travels on the <c>transactions</c> topic (docs/design.md, section 2).
/// <see cref="Timestamp"/> is the event time (the JSON field <c>ts</c>).
/// </summary>
public sealed record Transaction(
    string UserId,
    decimal Amount,
    string? Merchant,
    DateTimeOffset Timestamp,
    string? TxId = null)
{
    /// <summary>Event time in Unix milliseconds, the unit every rule and window works in.</summary>
    public long EventTimeMs => Timestamp.ToUnixTimeMilliseconds();
}
