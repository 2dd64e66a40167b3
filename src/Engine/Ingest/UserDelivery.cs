using FraudActors.Engine.Users;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// Where a run's messages for a partition's users go (docs/design.md, "Direct delivery"): to the
/// partition's <see cref="UserHost"/> itself when it runs on this node, else through the shard
/// region. The choice is made once per partition and run, at its first message, and kept: a
/// user's records, wakes and barriers then all take one path, so they arrive in the order sent.
/// </summary>
internal sealed class UserDelivery(IActorRef users)
{
    private readonly bool _direct = UserHostRegistry.HostsPartitions(users);

    public IActorRef Region => users;

    /// <summary>
    /// Starts the partition's host before the run's first record, so the run can deliver to it
    /// directly. The answer comes through the region behind whatever an earlier run left in
    /// that path, so once it is in, no older record can overtake this run's direct ones
    /// (docs/design.md, "Direct delivery"). Every run calls it for each partition before its first message.
    /// </summary>
    public Task WakeAsync(int partition, TimeSpan timeout) =>
        _direct ? UserRegion.WakeHostAsync(users, partition, timeout) : Task.CompletedTask;

    /// <summary>Where the run sends <paramref name="partition"/>'s user messages; at the stream's turn only.</summary>
    public IActorRef For(RunState run, int partition)
    {
        if (!_direct)
        {
            return users;
        }

        if (!run.Routes.TryGetValue(partition, out var to))
        {
            to = UserHostRegistry.Find(users, UserMessageRouter.ShardFor(partition)) ?? users;
            run.Routes[partition] = to;
        }

        return to;
    }

    /// <summary>The partition (re)enters or leaves the run: its path is chosen again at its next message.</summary>
    public static void Forget(RunState run, int partition) => run.Routes.Remove(partition);
}
