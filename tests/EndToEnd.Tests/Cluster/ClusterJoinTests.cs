using System.Net;
using System.Net.Sockets;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>
/// Nodes join one Akka cluster through their seed nodes and both see it whole; bad cluster
/// settings stop the start with a message naming the option.
/// </summary>
public sealed partial class ClusterJoinTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_second_node_joins_the_first_through_its_seed_node_and_both_see_two_members()
    {
        var port = ClusterNodes.FreePort();
        await using var first = FraudProcess.Start("run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--node-port", $"{port}");
        var firstApi = await ClusterNodes.HttpAddressAsync(first, Timeout);
        await using var second = FraudProcess.Start("run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--seed-nodes", $"127.0.0.1:{port}");
        var secondApi = await ClusterNodes.HttpAddressAsync(second, Timeout);

        using var http = new HttpClient();
        foreach (var api in new[] { firstApi, secondApi })
        {
            await Eventually.ValueAsync(() => ClusterNodes.MembersAsync(http, api), members => members.Count == 2, Timeout);
        }

        Assert.Contains($"akka.tcp://fraud@127.0.0.1:{port}", await ClusterNodes.MembersAsync(http, secondApi));

        // A graceful leave on SIGTERM (docker stop): coordinated shutdown leaves the cluster, and
        // the first node sees it shrink back to itself.
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        await Eventually.ValueAsync(() => ClusterNodes.MembersAsync(http, firstApi), members => members.Count == 1, Timeout);
        first.Interrupt();
        Assert.Equal(0, await first.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task A_node_with_another_consumer_group_is_refused_by_the_cluster_it_joins()
    {
        var port = ClusterNodes.FreePort();
        await using var first = FraudProcess.Start("run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--node-port", $"{port}", "--group", "fraud-detector");
        await ClusterNodes.HttpAddressAsync(first, Timeout);
        var (code, second) = await FraudProcess.RunAsync(Timeout, "run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--seed-nodes", $"127.0.0.1:{port}", "--group", "another-job");
        Assert.Equal(2, code);
        Assert.Contains("this node runs group 'another-job' on topic 'transactions', but cluster node", second.StandardError, StringComparison.Ordinal);
        Assert.Contains("runs group 'fraud-detector'", second.StandardError, StringComparison.Ordinal);
        Assert.False(first.HasExited, first.StandardErrorTail());
        first.Interrupt();
        Assert.Equal(0, await first.WaitForExitAsync(Timeout));
    }

    [Theory]
    [InlineData("fraud-1", "--seed-nodes")]
    [InlineData("fraud-1:0", "--seed-nodes")]
    [InlineData("fraud-1:4053,:4053", "--seed-nodes")]
    public async Task A_bad_seed_node_address_exits_with_2_naming_the_option(string seeds, string named)
    {
        var (code, process) = await FraudProcess.RunAsync(Timeout, "run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--seed-nodes", seeds);
        Assert.Equal(2, code);
        Assert.Contains(named, process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_port_in_use_exits_with_2_naming_the_option()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, process) = await FraudProcess.RunAsync(Timeout, "run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--node-port", $"{port}");
        Assert.Equal(2, code);
        Assert.Contains($"--node-port: cannot listen on 127.0.0.1:{port}", process.StandardError, StringComparison.Ordinal);
    }
}
