using FraudActors.Engine.State;

namespace FraudActors.Engine.Tests.State;

/// <summary>The four keyed-state kinds a rule is written with: reads, writes, time-to-live and their bytes.</summary>
public sealed class KeyedStateTests
{
    private static readonly StateTtl Minute = new(TimeSpan.FromMinutes(1));

    [Fact]
    public void A_value_reads_its_last_write_and_expires_a_ttl_after_it()
    {
        var count = ValueState<long>.Empty;
        Assert.Equal(-1, count.Get(-1));

        count = count.Update(count.Get(0) + 1, nowMs: 1_000).Update(2, nowMs: 5_000);
        Assert.Equal(2, count.Get(0, nowMs: 65_000, Minute));
        Assert.Equal(0, count.Get(0, nowMs: 65_001, Minute));
        Assert.Equal(2, count.Get(0, nowMs: 65_001));
        Assert.False(count.Expire(65_001, Minute).HasValue);
        Assert.True(count.Expire(65_000, Minute).HasValue);
        Assert.False(count.Clear().HasValue);
    }

    [Fact]
    public void A_list_appends_in_order_and_an_expired_list_starts_again()
    {
        var times = ListState<long>.Empty.Add(10, nowMs: 10).Add(20, nowMs: 20);
        Assert.Equal([10L, 20L], times.Get());

        // Written last at 20: at 60,021 a minute has passed, so the next add starts a new list.
        var after = times.Add(99, nowMs: 60_021, Minute);
        Assert.Equal([99L], after.Get(60_021, Minute));
        Assert.Equal([30L, 40L], times.Update([30L, 40L], nowMs: 30).Get());
        Assert.True(times.Clear().IsEmpty);
    }

    [Fact]
    public void Map_entries_have_their_own_ttl_and_iterate_in_ordinal_key_order()
    {
        var perMerchant = MapState<string, decimal>.Empty
            .Put("b-shop", 5m, nowMs: 0)
            .Put("B-shop", 7m, nowMs: 0)
            .Put("a-shop", 1m, nowMs: 50_000);
        Assert.Equal(["B-shop", "a-shop", "b-shop"], perMerchant.Items().Select(e => e.Key));
        Assert.Equal(5m, perMerchant.Get("b-shop", 0m));
        Assert.Equal(12m, perMerchant.Put("b-shop", perMerchant.Get("b-shop", 0m) + 7m, 1).Get("b-shop", 0m));

        // At 70 s the two written at 0 are older than a minute; the one written at 50 s is not.
        Assert.Equal(["a-shop"], perMerchant.Items(70_000, Minute).Select(e => e.Key));
        Assert.False(perMerchant.TryGet("b-shop", out _, 70_000, Minute));
        Assert.Equal(1, perMerchant.Expire(70_000, Minute).Count);
        Assert.Equal(2, perMerchant.Remove("a-shop").Count);
    }

    [Fact]
    public void A_reducing_state_folds_every_add_into_running_stats()
    {
        var stats = ReducingState<RunningStats>.Empty;
        foreach (var amount in new[] { 12.5m, 3m, 700m, 0.5m })
        {
            stats = stats.Add(RunningStats.Of(amount), RunningStats.Combine, nowMs: 0);
        }

        var s = stats.Get(default);
        Assert.Equal((4L, 716m, 0.5m, 700m, 179m), (s.Count, s.Sum, s.Min, s.Max, s.Average));

        var sum = ReducingState<long>.Empty.Add(5, (a, b) => a + b, 0).Add(6, (a, b) => a + b, 1);
        Assert.Equal(11, sum.Get(0));
        Assert.Equal(7, sum.Add(7, (a, b) => a + b, nowMs: 70_000, Minute).Get(0));
    }

    [Fact]
    public void Every_kind_round_trips_through_its_bytes()
    {
        var value = ValueState<bool>.Empty.Update(true, 42);
        var list = ListState<long>.Empty.Add(1, 1).Add(2, 2);
        var map = MapState<string, long>.Empty.Put("shop", 3, 7).Put("cafe", 1, 8);
        var stats = ReducingState<RunningStats>.Empty.Add(RunningStats.Of(9.99m), RunningStats.Combine, 9);

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            StateCodec.Write(w, value, StateCodec.Boolean);
            StateCodec.Write(w, ValueState<string>.Empty, StateCodec.String);
            StateCodec.Write(w, list, StateCodec.Int64);
            StateCodec.Write(w, ListState<long>.Empty, StateCodec.Int64);
            StateCodec.Write(w, map, StateCodec.String, StateCodec.Int64);
            StateCodec.Write(w, stats, StateCodec.Stats);
        }

        stream.Position = 0;
        using var r = new BinaryReader(stream);
        Assert.Equal(value, StateCodec.ReadValue(r, StateCodec.ReadBoolean));
        Assert.False(StateCodec.ReadValue(r, StateCodec.ReadString).HasValue);
        var listBack = StateCodec.ReadList(r, StateCodec.ReadInt64);
        Assert.Equal(list.Get(), listBack.Get());
        Assert.Equal(list.UpdatedAtMs, listBack.UpdatedAtMs);
        Assert.True(StateCodec.ReadList(r, StateCodec.ReadInt64).IsEmpty);
        var mapBack = StateCodec.ReadMap(r, StateCodec.ReadString, StateCodec.ReadInt64);
        Assert.Equal(map.Entries!.ToList(), mapBack.Entries!.ToList());
        Assert.Equal(stats, StateCodec.ReadReducing(r, StateCodec.ReadStats));
        Assert.Equal(stream.Length, stream.Position);
    }
}
