using FraudActors.Engine.Checkpoints.Store;

namespace FraudActors.Engine.Tests.Checkpoints;

/// <summary>The filter of a store's users: never "no" for a user added, rarely "maybe" for one not.</summary>
public sealed class KnownUsersTests
{
    [Fact]
    public void Every_added_user_is_a_maybe_and_few_others_are()
    {
        var known = new KnownUsers(capacity: 100_000);
        for (var i = 0; i < 100_000; i++)
        {
            known.Add($"user-{i}");
        }

        Assert.All(Enumerable.Range(0, 100_000), i => Assert.True(known.MightContain($"user-{i}")));
        var falseMaybes = Enumerable.Range(0, 100_000).Count(i => known.MightContain($"other-{i}"));
        Assert.InRange(falseMaybes, 0, 2_000);
        Assert.False(known.Full);
    }

    [Fact]
    public void It_counts_users_once_and_says_when_it_holds_more_than_it_was_sized_for()
    {
        var known = new KnownUsers(capacity: 1024);
        known.Add("a");
        known.Add("a");
        Assert.Equal(1, known.Count);
        for (var i = 0; i < 1100; i++)
        {
            known.Add($"u{i}");
        }

        Assert.True(known.Full);
    }
}
