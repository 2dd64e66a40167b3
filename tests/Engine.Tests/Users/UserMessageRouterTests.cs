using FraudActors.Engine.Users;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Tests.Users;

/// <summary>Users are routed to their partition's shard, or (for comparison) to a stable hash shard.</summary>
public sealed class UserMessageRouterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_shard_is_the_records_partition_so_a_partitions_users_form_one_shard()
    {
        var router = new UserMessageRouter();
        Assert.Equal("4", router.ShardId(Apply("alice", partition: 4)));
        Assert.Equal("4", router.ShardId(Apply("bob", partition: 4)));
        Assert.Equal("alice", router.EntityId(Apply("alice", partition: 4)));
        Assert.Throws<InvalidOperationException>(() => router.ShardId("alice"));
    }

    [Fact]
    public void Hash_shards_ignore_the_partition_and_are_the_same_in_every_process()
    {
        var router = new UserMessageRouter(hashShards: 100);
        var shards = Enumerable.Range(0, 2000).Select(i => router.ShardId(Apply($"u{i}", partition: i % 6))).ToList();
        Assert.All(shards, s => Assert.Matches("^h[0-9]{1,2}$", s));
        Assert.True(shards.Distinct().Count() > 90, "2000 users spread over most of the 100 shards");
        Assert.Equal(router.ShardId(Apply("alice", partition: 0)), router.ShardId(Apply("alice", partition: 5)));
        Assert.Equal(router.ShardId(Apply("alice", partition: 0)), router.ShardId("alice"));

        // FNV-1a (32 bits) of "alice" is 0x872213E7: fixed, unlike string.GetHashCode.
        Assert.Equal("h79", router.ShardId("alice"));
    }

    private static ApplyTransaction Apply(string user, int partition) => new(partition, 0, new Transaction(user, 1m, "shop", T0));
}
