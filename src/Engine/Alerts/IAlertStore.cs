using FraudActors.Messages.Alerts;

namespace FraudActors.Engine.Alerts;

/// <summary>An alert row of the outbox: its place in insertion order and the bytes to publish.</summary>
public sealed record StoredAlert(long Seq, string AlertId, string UserId, byte[] Payload);

/// <summary>
/// The <c>alerts</c> table: every alert once, by its deterministic id (a replay inserts nothing),
/// with a flag saying whether it reached the alerts topic. It is the outbox the publisher reads.
/// </summary>
public interface IAlertStore
{
    /// <summary>Creates the table if it does not exist.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts the alert unless its id is already there; true when it was new.</summary>
    Task<bool> AddAsync(Alert alert, CancellationToken cancellationToken);

    /// <summary>Inserts the alerts in their order, each unless its id is already there; returns those that were new, in order.</summary>
    async Task<IReadOnlyList<Alert>> AddRangeAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        var added = new List<Alert>();
        foreach (var alert in alerts)
        {
            if (await AddAsync(alert, cancellationToken).ConfigureAwait(false))
            {
                added.Add(alert);
            }
        }

        return added;
    }

    /// <summary>The oldest alerts not yet published, in insertion order.</summary>
    Task<IReadOnlyList<StoredAlert>> UnpublishedAsync(int limit, CancellationToken cancellationToken);

    Task MarkPublishedAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken);

    /// <summary>How many alerts the table holds, and how many of them are published.</summary>
    Task<(long Total, long Published)> CountAsync(CancellationToken cancellationToken);

    /// <summary>Every alert id in the table, published or not.</summary>
    Task<IReadOnlyList<string>> AlertIdsAsync(CancellationToken cancellationToken);
}
