using FraudActors.Engine.Rescaling;
using FraudActors.Messages.Checkpoints;

namespace FraudActors.Engine.Tests.Rescaling;

/// <summary>The rescale as a pure plan: where each user goes, what each partition keeps, and that a re-run moves nothing.</summary>
public sealed class RescalePlanTests
{
    private const ProducerPartitioner Partitioner = ProducerPartitioner.Crc32;

    [Fact]
    public void Every_user_goes_where_the_partitioner_puts_it_old_partitions_keep_offset_and_watermark_new_ones_start_at_0()
    {
        var journals = ThreePartitions();
        var plan = RescalePlan.Compute(journals, 6, Partitioner, Bytes);

        Assert.Equal((3, 6, 9L, 300), (plan.FromPartitions, plan.ToPartitions, plan.Epoch, plan.Users));
        foreach (var target in plan.Partitions)
        {
            Assert.All(target.Users, u => Assert.Equal(target.Partition, Partitioner.PartitionOf(u.UserId, 6)));
            Assert.Equal(target.Partition >= 3, target.IsNew);
        }

        Assert.Equal(300, plan.Partitions.Sum(p => p.Users.Count));
        Assert.Equal([100L, 200, 300, 0, 0, 0], plan.Partitions.Select(p => p.NextOffset));

        // From 3 to 6 a crc32 key stays or moves from p to p + 3: a new partition takes its source's watermark.
        Assert.Equal([1_000L, 2_000, 3_000, 1_000, 2_000, 3_000], plan.Partitions.Select(p => p.WatermarkMs!.Value));
        Assert.All(plan.Moves, m => Assert.True(m.Key.To == m.Key.From || m.Key.To == m.Key.From + 3));
        Assert.Equal(plan.Partitions.Skip(3).Sum(p => p.Users.Count), plan.Moved);
        Assert.True(plan.Moved > 0);

        // States move as the move makes them (here: as they are).
        var before = journals.SelectMany(j => j.Users).ToDictionary(u => u.UserId, u => u.State);
        Assert.All(plan.Partitions.SelectMany(p => p.Users), u => Assert.Equal(before[u.UserId], u.State));
    }

    [Fact]
    public void Rescaling_the_result_again_to_the_same_count_moves_and_writes_nothing()
    {
        var first = RescalePlan.Compute(ThreePartitions(), 6, Partitioner, Bytes);
        var again = RescalePlan.Compute(Applied(first), 6, Partitioner, Bytes);

        Assert.Equal(0, again.Moved);
        Assert.Equal(0, again.StaleCopies);
        Assert.All(again.Partitions, p => Assert.True(p.Unchanged, $"partition {p.Partition} would be written again"));
    }

    [Fact]
    public void A_new_partition_fed_from_several_old_ones_takes_the_lowest_of_their_watermarks()
    {
        // From 3 to 5 a new partition receives users of several old partitions.
        var plan = RescalePlan.Compute(ThreePartitions(), 5, Partitioner, Bytes);
        foreach (var target in plan.Partitions.Where(p => p.IsNew))
        {
            var sources = plan.Moves.Where(m => m.Key.To == target.Partition).Select(m => m.Key.From).ToList();
            Assert.True(sources.Count > 1);
            Assert.Equal(sources.Min(s => (s + 1) * 1_000L), target.WatermarkMs);
        }

        // Old partitions that both gain and lose keep, between the two phases, the users they lose.
        var swapping = plan.Partitions.Where(p => p.Gains && p.Loses).ToList();
        Assert.NotEmpty(swapping);
        var old = ThreePartitions();
        Assert.All(swapping, p => Assert.Equal(
            old[p.Partition].Users.Select(u => u.UserId).Union(p.Users.Select(u => u.UserId)).Order(StringComparer.Ordinal),
            p.Interim!.Select(u => u.UserId).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void After_an_interrupted_rescale_the_copy_in_the_users_partition_wins_and_the_stale_one_goes()
    {
        var first = RescalePlan.Compute(ThreePartitions(), 6, Partitioner, Bytes);

        // Only the first phase happened: the new partitions got their users, the old ones still hold them.
        var interrupted = ThreePartitions().Concat(Applied(first).Where(j => j.Partition >= 3)).ToList();
        var again = RescalePlan.Compute(interrupted, 6, Partitioner, Bytes);

        Assert.Equal(first.Moved, again.StaleCopies);
        Assert.Equal(0, again.Moved);
        Assert.Equal(first.Partitions.Select(p => p.Users.Select(u => u.UserId)), again.Partitions.Select(p => p.Users.Select(u => u.UserId)));
        Assert.Equal(first.Partitions.Select(p => p.NextOffset), again.Partitions.Select(p => p.NextOffset));
    }

    [Fact]
    public void Differing_copies_with_none_in_the_users_partition_are_refused()
    {
        var target = Partitioner.PartitionOf("u1", 6);
        var others = Enumerable.Range(0, 3).Where(p => p != target).Take(2).ToList();
        var journals = others.Select((p, i) => new JournalContents(p, 1, 10, null, [new UserSnapshot("u1", [(byte)(i + 10)])])).ToList();

        var refused = Assert.Throws<InvalidOperationException>(() => RescalePlan.Compute(journals, 6, Partitioner, Bytes));
        Assert.Contains("user u1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fewer_partitions_than_the_journals_hold_are_refused()
    {
        var refused = Assert.Throws<ArgumentException>(() => RescalePlan.Compute(ThreePartitions(), 2, Partitioner, Bytes));
        Assert.Contains("cannot be decreased", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>These states are plain bytes, not user states: a move leaves them as they are (MovedUserStateTests covers the real one).</summary>
    private static UserSnapshot Bytes(UserSnapshot user) => user;

    /// <summary>300 users spread over 3 partitions as crc32 puts them, epochs 7-9, offsets 100-300, watermarks 1000-3000.</summary>
    private static List<JournalContents> ThreePartitions()
    {
        var users = Enumerable.Range(0, 300).Select(i => new UserSnapshot($"u{i}", [(byte)(i % 251), 1, 2])).ToList();
        return [.. Enumerable.Range(0, 3).Select(p => new JournalContents(
            p,
            7 + p,
            100 * (p + 1),
            1_000 * (p + 1),
            users.Where(u => Partitioner.PartitionOf(u.UserId, 3) == p).ToList()))];
    }

    /// <summary>The journals as a completed rescale leaves them.</summary>
    private static List<JournalContents> Applied(RescalePlan plan) =>
        [.. plan.Partitions.Select(p => new JournalContents(p.Partition, plan.Epoch, p.NextOffset, p.WatermarkMs, p.Users))];
}
