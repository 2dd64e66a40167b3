using FraudActors.Tooling.Drill;

namespace FraudActors.Service.Tests.Drill;

/// <summary>The cluster drill's rotation: kill -9, leave, join and freeze by turns, each only where the cluster keeps a majority.</summary>
public sealed class ClusterEventsTests
{
    private static int Port(int node) => 40_000 + node;

    [Fact]
    public void On_three_nodes_the_kinds_take_turns_and_the_fourth_event_is_a_freeze()
    {
        Assert.Equal([ClusterEvent.KillHard, ClusterEvent.Leave, ClusterEvent.Join, ClusterEvent.Freeze], Run(events: 4, nodes: 3));
    }

    [Fact]
    public void The_default_ten_events_on_three_nodes_freeze_twice()
    {
        Assert.Equal(2, Run(events: 10, nodes: 3).Count(k => k == ClusterEvent.Freeze));
    }

    [Fact]
    public void With_all_running_a_join_gives_way_to_a_freeze()
    {
        Assert.Equal(ClusterEvent.Freeze, ClusterEvents.Choose(2, [1, 2, 3], 3, Port));
    }

    [Fact]
    public void With_two_of_three_running_nothing_goes_down_and_a_freeze_gives_way_to_a_join()
    {
        Assert.Empty(ClusterEvents.Nodes(ClusterEvent.Freeze, [1, 3], 3, Port));
        Assert.Empty(ClusterEvents.Nodes(ClusterEvent.KillHard, [1, 3], 3, Port));
        Assert.Equal(ClusterEvent.Join, ClusterEvents.Choose(3, [1, 3], 3, Port));
        Assert.Equal([2], ClusterEvents.Nodes(ClusterEvent.Join, [1, 3], 3, Port));
    }

    [Fact]
    public void With_two_of_two_running_a_freeze_spares_the_lowest_address_which_the_resolver_keeps()
    {
        Assert.Equal([2], ClusterEvents.Nodes(ClusterEvent.Freeze, [1, 2], 2, Port));
        Assert.Equal([1], ClusterEvents.Nodes(ClusterEvent.Freeze, [1, 2], 2, n => 50_000 - n));
    }

    [Fact]
    public void A_lone_node_is_never_frozen()
    {
        Assert.Empty(ClusterEvents.Nodes(ClusterEvent.Freeze, [1], 2, Port));
        Assert.Equal(ClusterEvent.Join, ClusterEvents.Choose(3, [1], 2, Port));
    }

    /// <summary>The kinds as the drill runs them: a leave keeps its node out until a join, every other kind ends with it running.</summary>
    private static List<ClusterEvent> Run(int events, int nodes)
    {
        var running = Enumerable.Range(1, nodes).ToList();
        var kinds = new List<ClusterEvent>();
        for (var i = 0; i < events; i++)
        {
            var kind = ClusterEvents.Choose(i, running, nodes, Port);
            var node = ClusterEvents.Nodes(kind, running, nodes, Port)[0];
            if (kind == ClusterEvent.Leave)
            {
                running.Remove(node);
            }
            else if (kind == ClusterEvent.Join)
            {
                running.Add(node);
            }

            kinds.Add(kind);
        }

        return kinds;
    }
}
