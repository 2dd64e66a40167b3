namespace FraudActors.Testing;

/// <summary>Waits for a condition to become true, checking it repeatedly, up to a deadline.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> explain)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not true within {timeout}: {explain()}");
            }

            // The pause between checks only paces the polling; the condition decides.
            await Task.Delay(200);
        }
    }
}
