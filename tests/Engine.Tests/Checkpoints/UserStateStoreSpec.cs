using FraudActors.Engine.Checkpoints.Store;
using FraudActors.Engine.Storage;
using FraudActors.Messages.Checkpoints;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>The users' state store, on each backend (one subclass each): what the partition journal relies on.</summary>
public abstract class UserStateStoreSpec(IUserStateStore store)
{
    private readonly string _journal = "partition-t" + Guid.NewGuid().ToString("N")[..12] + "-0";

    [Fact]
    public async Task A_write_stores_its_users_and_moves_the_mark_with_the_count_of_users()
    {
        Assert.Equal(StateMark.None, await store.ReadMarkAsync(_journal, default));
        var mark = await store.WriteAsync(_journal, new StateWrite(4, false, [new("a", 2, [1]), new("b", 4, [2])]), default);
        Assert.Equal(new StateMark(4, 2), mark);
        mark = await store.WriteAsync(_journal, new StateWrite(6, false, [new("b", 6, [3]), new("c", 6, [4])]), default);
        Assert.Equal(new StateMark(6, 3), mark);
        Assert.Equal(mark, await store.ReadMarkAsync(_journal, default));

        var read = await store.ReadAsync(_journal, ["a", "b", "nobody"], default);
        Assert.Equal(["a", "b"], read.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([1], read["a"]);
        Assert.Equal([3], read["b"]);
        Assert.Equal(["a", "b", "c"], (await store.AllAsync(_journal, default)).Select(u => u.UserId).Order(StringComparer.Ordinal));

        // Three stored, plus the one of these it does not hold.
        Assert.Equal(4, await store.CountWithAsync(_journal, ["a", "new"], default));
    }

    [Fact]
    public async Task A_state_from_an_older_commit_never_replaces_a_newer_one_and_the_mark_never_moves_back()
    {
        await store.WriteAsync(_journal, new StateWrite(10, false, [new("a", 10, [10])]), default);

        // A node that lost the partition writes what it had committed before.
        var mark = await store.WriteAsync(_journal, new StateWrite(8, false, [new("a", 8, [8]), new("b", 8, [8])]), default);
        Assert.Equal(10, mark.Sequence);
        var read = await store.ReadAsync(_journal, ["a", "b"], default);
        Assert.Equal([10], read["a"]);
        Assert.Equal([8], read["b"]);
    }

    [Fact]
    public async Task A_replacement_leaves_only_its_users()
    {
        await store.WriteAsync(_journal, new StateWrite(2, false, [new("a", 2, [1]), new("b", 2, [1])]), default);
        var mark = await store.WriteAsync(_journal, new StateWrite(5, true, [new("c", 5, [5])]), default);
        Assert.Equal(new StateMark(5, 1), mark);
        Assert.Equal(["c"], (await store.AllAsync(_journal, default)).Select(u => u.UserId));
    }

    [Fact]
    public async Task The_timers_are_the_stored_states_next_timers()
    {
        await store.WriteAsync(_journal, new StateWrite(1, false, [new("a", 1, TimerState(500)), new("idle", 1, TimerState(long.MaxValue)), new("old", 1, [1, 2])]), default);
        Assert.Equal([new UserTimerDue("a", 500)], await store.TimersAsync(_journal, default));
        await store.WriteAsync(_journal, new StateWrite(2, false, [new("a", 2, TimerState(long.MaxValue)), new("idle", 2, TimerState(70))]), default);
        Assert.Equal([new UserTimerDue("idle", 70)], await store.TimersAsync(_journal, default));
    }

    [Fact]
    public async Task Journals_do_not_see_each_others_users()
    {
        var other = _journal + "0";
        await store.WriteAsync(_journal, new StateWrite(1, false, [new("a", 1, [1])]), default);
        await store.WriteAsync(other, new StateWrite(1, false, [new("a", 1, [2])]), default);
        Assert.Equal([1], (await store.ReadAsync(_journal, ["a"], default))["a"]);
        Assert.Equal([2], (await store.ReadAsync(other, ["a"], default))["a"]);
    }

    private static byte[] TimerState(long dueMs)
    {
        var state = new byte[12];
        state[0] = Engine.Users.UserStateCodec.Version3;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(state.AsSpan(1), dueMs);
        return state;
    }
}

public sealed class MemoryUserStateStoreTests() : UserStateStoreSpec(new MemoryUserStateStore());

public sealed class SqliteUserStateStoreTests() : UserStateStoreSpec(
    new SqlUserStateStore(SqlDatabase.Sqlite($"Data Source={Path.Combine(Path.GetTempPath(), $"fraud-state-{Guid.NewGuid():N}.db")}")));

public sealed class PostgreSqlUserStateStoreTests() : UserStateStoreSpec(new SqlUserStateStore(SqlDatabase.PostgreSql(TestPostgres.ConnectionString)));
