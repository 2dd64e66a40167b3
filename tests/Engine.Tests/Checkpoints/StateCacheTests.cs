using FraudActors.Engine.Checkpoints.Store;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>The node's cache of committed states: bounded in bytes, least recently used out first.</summary>
public sealed class StateCacheTests
{
    [Fact]
    public void It_never_holds_more_than_its_capacity_and_evicts_the_least_recently_used_first()
    {
        var one = Cost("u0", 100);
        var cache = new StateCache(capacityBytes: 3 * one);
        cache.Put("j", "u0", new byte[100]);
        cache.Put("j", "u1", new byte[100]);
        cache.Put("j", "u2", new byte[100]);
        Assert.True(cache.TryGet("j", "u0", out _));

        // u1 is now the least recently used: it makes room for u3.
        cache.Put("j", "u3", new byte[100]);
        Assert.False(cache.TryGet("j", "u1", out _));
        Assert.True(cache.TryGet("j", "u0", out _));
        Assert.True(cache.TryGet("j", "u2", out _));
        Assert.True(cache.TryGet("j", "u3", out _));
        Assert.Equal(3 * one, cache.Bytes);
        Assert.Equal(3 * one, cache.PeakBytes);

        for (var i = 0; i < 10_000; i++)
        {
            cache.Put("j", $"u{i % 500}", new byte[i % 300]);
            Assert.True(cache.Bytes <= cache.CapacityBytes);
        }

        Assert.True(cache.PeakBytes <= cache.CapacityBytes);
    }

    [Fact]
    public void A_newer_state_replaces_the_cached_one_and_a_state_larger_than_the_cache_is_not_kept()
    {
        var cache = new StateCache(capacityBytes: 1_000);
        cache.Put("j", "u", [1]);
        cache.Put("j", "u", [2]);
        Assert.True(cache.TryGet("j", "u", out var state));
        Assert.Equal([2], state);
        Assert.Equal(1, cache.Count);

        cache.Put("j", "u", new byte[5_000]);
        Assert.False(cache.TryGet("j", "u", out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void Users_of_one_journal_are_forgotten_together_and_reads_are_counted()
    {
        var cache = new StateCache(capacityBytes: 10_000);
        cache.Put("a", "u", [1]);
        cache.Put("b", "u", [2]);
        cache.RemoveJournal("a");
        Assert.False(cache.TryGet("a", "u", out _));
        Assert.True(cache.TryGet("b", "u", out var b));
        Assert.Equal([2], b);
        Assert.Equal((1L, 1L), cache.Reads);
    }

    /// <summary>What one entry costs, measured as the cache counts it.</summary>
    private static long Cost(string user, int bytes)
    {
        var probe = new StateCache(long.MaxValue);
        probe.Put("j", user, new byte[bytes]);
        return probe.Bytes;
    }
}
