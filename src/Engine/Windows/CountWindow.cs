using FraudActors.Engine.State;

namespace FraudActors.Engine.Windows;

/// <summary>
/// A count window (Flink's <c>countWindow(n)</c>): every <c>size</c> transactions of a user make
/// one result, with their amount; the state is the transactions and amount since the last one.
/// </summary>
public readonly record struct CountWindow(long Count, decimal Total)
{
    /// <summary>Adds a transaction; a full window is returned and the state starts again.</summary>
    public (CountWindow State, CountWindow? Full) Add(decimal amount, int size)
    {
        var next = new CountWindow(Count + 1, Amounts.Add(Total, amount));
        return next.Count >= size ? (default, next) : (next, null);
    }
}
