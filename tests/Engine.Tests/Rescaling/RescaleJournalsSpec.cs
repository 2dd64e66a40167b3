using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Rescaling;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Rescaling;

/// <summary>
/// A rescale of real partition journals (one subclass per store): users checkpointed in 3
/// partitions, rescaled to 6, read back by journals started afresh.
/// </summary>
public abstract class RescaleJournalsSpec(Config config) : TestKit(config)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const ProducerPartitioner Partitioner = ProducerPartitioner.Murmur2;

    /// <summary>Each test uses its own topic name, so runs never share persistence ids.</summary>
    protected string Topic { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Users_in_3_partitions_rescaled_to_6_are_each_in_the_partition_the_partitioner_picks_with_offsets_kept_or_0()
    {
        var users = Enumerable.Range(0, 500)
            .Select(i => new UserSnapshot($"user-{i}", UserStateCodec.Encode(UserState.Empty($"user-{i}") with { LastAppliedOffset = 900 + i, TransactionCount = i })))
            .ToList();
        await CheckpointAsync(users, partitions: 3);

        var plan = await RescaleAsync(6);
        Assert.Equal((3, 500), (plan.FromPartitions, plan.Users));
        Assert.True(plan.Moved > 0);

        var after = await ReadAsync(6);
        var states = users.ToDictionary(u => u.UserId, u => u.State);
        foreach (var journal in after)
        {
            Assert.All(journal.Users, u => Assert.Equal(journal.Partition, Partitioner.PartitionOf(u.UserId, 6)));
            // A user that moved has applied nothing of its new partition yet; one that stayed is as it was.
            Assert.All(journal.Users, u => Assert.Equal(
                journal.Partition < 3 ? states[u.UserId] : MovedUserState.ForgetOffset(new UserSnapshot(u.UserId, states[u.UserId])).State,
                u.State));
            Assert.All(journal.Users, u => Assert.Equal(journal.Partition < 3 ? 900 + int.Parse(u.UserId[5..], System.Globalization.CultureInfo.InvariantCulture) : -1, UserStateCodec.Decode(u.State).LastAppliedOffset));
            Assert.Equal(journal.Partition < 3 ? 1000L * (journal.Partition + 1) : 0L, journal.NextOffset);
            Assert.Equal(4L, journal.Epoch);

            // 3 to 6 moves a murmur2 key from p to p + 3 or not at all: a new partition goes on from its users' old one.
            Assert.Equal(50_000L * ((journal.Partition % 3) + 1), journal.WatermarkMs);
        }

        Assert.Equal(users.Select(u => u.UserId).Order(StringComparer.Ordinal), after.SelectMany(j => j.Users).Select(u => u.UserId).Order(StringComparer.Ordinal));
        Assert.All(after.Skip(3), j => Assert.NotEmpty(j.Users));

        // Run again with the same count: nothing moves, nothing is written.
        var again = await RescaleAsync(6);
        Assert.Equal(0, again.Moved);
        Assert.All(again.Partitions, p => Assert.True(p.Unchanged));
    }

    /// <summary>Partition p's users (as the partitioner places them among <paramref name="partitions"/>) committed at epoch p + 2, offset 1000 (p + 1).</summary>
    private async Task CheckpointAsync(List<UserSnapshot> users, int partitions)
    {
        for (var partition = 0; partition < partitions; partition++)
        {
            var journal = Sys.ActorOf(PartitionJournal.PropsFor(Topic, partition, new PartitionJournalSettings(MaxChunkBytes: 1024)));
            var mine = users.Where(u => Partitioner.PartitionOf(u.UserId, partitions) == partition).ToList();
            await journal.Ask<CheckpointWritten>(new WriteCheckpoint(partition + 2, 1000L * (partition + 1), mine, 50_000L * (partition + 1)), Timeout);
            await journal.GracefulStop(Timeout, StopJournal.Instance);
        }
    }

    private async Task<RescalePlan> RescaleAsync(int partitions)
    {
        await using var journals = new RescaleJournals(Sys, Topic, Timeout);
        var plan = RescalePlan.Compute(await journals.ReadAsync(partitions), partitions, Partitioner);
        await journals.WriteAsync(plan);
        return plan;
    }

    private async Task<List<JournalContents>> ReadAsync(int partitions)
    {
        await using var journals = new RescaleJournals(Sys, Topic, Timeout);
        return await journals.ReadAsync(partitions);
    }
}

public sealed class InMemoryRescaleJournalsTests() : RescaleJournalsSpec(JournalStore.Config(JournalStore.Memory, string.Empty));

public sealed class SqliteRescaleJournalsTests() : RescaleJournalsSpec(JournalStore.Config(JournalStore.Sqlite, Connection))
{
    private static readonly string Connection = $"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-rescale-{Guid.NewGuid():N}.db")}";

    [Fact]
    public async Task The_store_shows_which_partitions_have_journals()
    {
        Assert.Empty(await JournalPartitions.FindAsync(JournalStore.Sqlite, Connection, Topic, CancellationToken.None));
        for (var partition = 0; partition < 3; partition++)
        {
            var journal = Sys.ActorOf(PartitionJournal.PropsFor(Topic, partition, new PartitionJournalSettings()));
            await journal.Ask<CheckpointWritten>(new WriteCheckpoint(1, 10, [new UserSnapshot($"u{partition}", [1])]), TimeSpan.FromSeconds(30));
            await journal.GracefulStop(TimeSpan.FromSeconds(30), StopJournal.Instance);
        }

        // Another topic's journals (one whose name starts the same) are not this one's.
        var other = Sys.ActorOf(PartitionJournal.PropsFor(Topic + "-x", 7, new PartitionJournalSettings()));
        await other.Ask<CheckpointWritten>(new WriteCheckpoint(1, 10, []), TimeSpan.FromSeconds(30));

        Assert.Equal([0, 1, 2], await JournalPartitions.FindAsync(JournalStore.Sqlite, Connection, Topic, CancellationToken.None));
    }
}
