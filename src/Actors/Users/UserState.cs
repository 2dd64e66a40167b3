using System.Collections.Immutable;
using FraudActors.Actors.Rules;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;

namespace FraudActors.Actors.Users;

/// <summary>
/// Everything one user's actor knows, as an immutable value so it can be handed to a checkpoint
/// as is. <see cref="LastAppliedOffset"/> makes replays harmless: a record at or below it was
/// already applied and is skipped (DESIGN.md section 4, step 4).
/// </summary>
public sealed record UserState(string UserId, long LastAppliedOffset, ImmutableArray<long> VelocityTimestamps)
{
    /// <summary>Transactions applied to this user, each once (a replayed record does not count again).</summary>
    public long TransactionCount { get; init; }

    public static UserState Empty(string userId) => new(userId, -1, []);

    /// <summary>Applies one transaction: the pure heart of the user actor.</summary>
    public (UserState State, IReadOnlyList<Alert> Alerts) Apply(ApplyTransaction command, RuleSettings rules, DateTimeOffset now)
    {
        var tx = command.Transaction;
        var alerts = new List<Alert>(1);
        var timestamps = VelocityTimestamps;
        if (rules.SlidingVelocity is { } velocity)
        {
            (timestamps, var count) = SlidingVelocityRule.Apply(timestamps, tx.EventTimeMs, velocity);
            if (SlidingVelocityRule.Fires(count, velocity))
            {
                alerts.Add(new Alert(
                    Alert.IdFor(SlidingVelocityRule.Name, command.Partition, command.Offset),
                    SlidingVelocityRule.Name,
                    tx.UserId,
                    count,
                    velocity.WindowMs,
                    tx.Amount,
                    tx.Timestamp,
                    command.Partition,
                    command.Offset,
                    now,
                    tx.TxId));
            }
        }

        return (this with { LastAppliedOffset = command.Offset, VelocityTimestamps = timestamps, TransactionCount = TransactionCount + 1 }, alerts);
    }
}
