namespace FraudActors.Testkit;

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

    /// <summary>Fetches a value until it satisfies <paramref name="accept"/>; returns that value.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> fetch, Func<T, bool> accept, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await fetch();
            if (accept(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no acceptable value within {timeout}; last: {(value is System.Collections.IEnumerable items and not string ? string.Join(", ", items.Cast<object>()) : value)}");
            }

            await Task.Delay(200);
        }
    }
}
