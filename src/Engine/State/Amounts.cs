namespace FraudActors.Engine.State;

/// <summary>Arithmetic on sums of amounts that never throws.</summary>
public static class Amounts
{
    /// <summary>
    /// <paramref name="a"/> + <paramref name="b"/>, held at ±decimal.MaxValue instead of overflowing.
    /// The parser's amount bound keeps sums of new records far from it; a sum restored from state
    /// written under a looser bound may not be, and one record must not make its user throw.
    /// </summary>
    public static decimal Add(decimal a, decimal b)
    {
        try
        {
            return a + b;
        }
        catch (OverflowException)
        {
            // Only two amounts of one sign overflow, so either tells the side.
            return a > 0 ? decimal.MaxValue : decimal.MinValue;
        }
    }
}
