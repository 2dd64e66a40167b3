using Akka.Configuration;
using FraudActors.Engine.Users;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// Reads what the partition journals committed, from outside the service: a short-lived actor
/// system recovers each journal and reports its users. It only reads, but it recovers the same
/// persistence ids as the service, so run it while no service writes to the same database.
/// </summary>
public static class JournalReader
{
    /// <summary>Every user's committed state, over partitions 0 … <paramref name="partitions"/> - 1 of <paramref name="topic"/>.</summary>
    public static async Task<IReadOnlyDictionary<string, UserState>> ReadUsersAsync(
        string store, string connection, string topic, int partitions, TimeSpan timeout)
    {
        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
            .WithFallback(JournalStore.Config(store, connection));
        var system = ActorSystem.Create("fraud-journal-reader", config);
        try
        {
            var users = new Dictionary<string, UserState>(StringComparer.Ordinal);
            for (var partition = 0; partition < partitions; partition++)
            {
                var journal = system.ActorOf(PartitionJournal.PropsFor(topic, partition, new PartitionJournalSettings()));
                var committed = await journal.Ask<CommittedUsers>(GetCommittedUsers.Instance, timeout).ConfigureAwait(false);
                foreach (var user in committed.Users)
                {
                    users[user.UserId] = UserStateCodec.Decode(user.State);
                }
            }

            return users;
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }
}
