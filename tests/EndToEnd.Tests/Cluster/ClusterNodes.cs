using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>What the cluster tests do with their nodes: ports, HTTP addresses, members, and the alert comparison.</summary>
internal static partial class ClusterNodes
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The HTTP address <paramref name="node"/> logged it serves on; the node must still run.</summary>
    public static async Task<string> HttpAddressAsync(FraudProcess node, TimeSpan timeout)
    {
        string? address = null;
        await Eventually.TrueAsync(
            () => (address = AddressLine().Match(node.StandardError) is { Success: true } m ? m.Groups[1].Value : null) is not null || node.HasExited,
            timeout,
            () => node.StandardErrorTail());
        Assert.False(node.HasExited, node.StandardErrorTail());
        return address!;
    }

    /// <summary>The cluster members the node at <paramref name="api"/> sees (<c>/overview</c>).</summary>
    public static async Task<List<string>> MembersAsync(HttpClient http, string api)
    {
        using var overview = JsonDocument.Parse(await http.GetStringAsync(api + "overview"));
        return [.. overview.RootElement.GetProperty("cluster_members").EnumerateArray().Select(m => m.GetString()!)];
    }

    /// <summary>Each duplicate, missing and extra alert id of <paramref name="actual"/> against <paramref name="expected"/>, as "what: kind id".</summary>
    public static IEnumerable<string> AlertDifferences(string what, List<string> expected, List<string> actual)
    {
        var (duplicates, missing, extra) = AlertReference.Compare(expected, actual);
        return duplicates.Select(d => $"{what}: duplicate {d}").Concat(missing.Select(m => $"{what}: missing {m}")).Concat(extra.Select(e => $"{what}: extra {e}"));
    }

    [GeneratedRegex(@"HTTP API and dashboard on (http://\S+/)")]
    private static partial Regex AddressLine();
}
