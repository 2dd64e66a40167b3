using FraudActors.Engine.Outbox;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows.Output;

/// <summary>
/// The <c>window_results</c> table: every window result once, by its deterministic id (a replay
/// inserts nothing), with the topic it goes to and a flag saying whether it reached it. It is the
/// outbox <see cref="WindowOutbox"/> publishes; its rows' key is the user id.
/// </summary>
public interface IWindowResultStore : IOutboxStore
{
    /// <summary>Inserts the result, bound for <paramref name="topic"/>, unless its id is already there; true when it was new.</summary>
    Task<bool> AddAsync(WindowResult result, string topic, CancellationToken cancellationToken);

    /// <summary>Inserts the results in their order, each bound for its topic, unless its id is already there; returns those that were new, in order.</summary>
    async Task<IReadOnlyList<WindowResult>> AddRangeAsync(IReadOnlyList<(WindowResult Result, string Topic)> results, CancellationToken cancellationToken)
    {
        var added = new List<WindowResult>();
        foreach (var (result, topic) in results)
        {
            if (await AddAsync(result, topic, cancellationToken).ConfigureAwait(false))
            {
                added.Add(result);
            }
        }

        return added;
    }

    /// <summary>How many results the table holds, and how many of them are published.</summary>
    Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken);

    /// <summary>Every result id in the table, published or not, in insertion order.</summary>
    Task<IReadOnlyList<string>> ResultIdsAsync(CancellationToken cancellationToken);
}
