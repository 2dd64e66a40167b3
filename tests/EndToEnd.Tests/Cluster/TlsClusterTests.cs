using FraudActors.Service.Cli;
using FraudActors.Service.Hosting;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cluster;

/// <summary>
/// Issue 18, remoting's mutual TLS between real processes: nodes with certificates of the job's CA
/// (made by <c>fraud certs</c>) form one cluster; a node with another CA's certificate, and a node
/// that speaks plain TCP, are refused at the handshake, stop with exit 2 naming the TLS settings
/// or keep asking, and never become members.
/// </summary>
public sealed class TlsClusterTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Password = "cluster-secret";
    private readonly string _directory = Directory.CreateTempSubdirectory("fraud-tls-cluster-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Nodes_of_the_jobs_CA_form_one_cluster_and_a_foreign_CA_node_or_a_plain_TCP_node_never_becomes_a_member()
    {
        var job = Path.Combine(_directory, "job");
        var foreign = Path.Combine(_directory, "foreign");
        await MakeCertificatesAsync(job, "node-1,node-2");
        await MakeCertificatesAsync(foreign, "node-3");

        var port = ClusterNodes.FreePort();
        await using var first = FraudProcess.Start(Tls(job, "node-1"), Run(port, seed: port));
        var firstApi = await ClusterNodes.HttpAddressAsync(first, Timeout);
        await using var second = FraudProcess.Start(Tls(job, "node-2"), Run(ClusterNodes.FreePort(), seed: port));
        var secondApi = await ClusterNodes.HttpAddressAsync(second, Timeout);
        using var http = new HttpClient();
        foreach (var api in new[] { firstApi, secondApi })
        {
            await Eventually.ValueAsync(() => ClusterNodes.MembersAsync(http, api), members => members.Count == 2, Timeout);
        }

        Assert.Contains($"akka.ssl.tcp://fraud@127.0.0.1:{port}", await ClusterNodes.MembersAsync(http, secondApi));

        // Another CA's certificate: the first node refuses it at the handshake, the stranger's side
        // refuses the first node's certificate too, and its remoting stops it: exit 2, naming TLS.
        await using var stranger = FraudProcess.Start(Tls(foreign, "node-3"), Run(ClusterNodes.FreePort(), seed: port));
        var code = await stranger.WaitForExitAsync(Timeout);
        Assert.True(code == ExitCodes.BadArguments, $"exit {code}\n{stranger.StandardErrorTail()}");
        Assert.Contains("fraud: --node-tls-certificate/--node-tls-ca: the TLS handshake with the cluster was refused", stranger.StandardError, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => first.StandardError.Contains($"{RemotingTls.RefusedPrefix} ", StringComparison.Ordinal) && first.StandardError.Contains("CN=node-3", StringComparison.Ordinal), Timeout, () => first.StandardErrorTail());

        // Plain TCP: the first node's TLS listener refuses its bytes; it keeps asking, as for a
        // seed node not started yet, until it is stopped. It is never a member.
        var plainPort = ClusterNodes.FreePort();
        await using (var plain = FraudProcess.Start(new Dictionary<string, string>(), Run(plainPort, seed: port)))
        {
            await Eventually.TrueAsync(() => plain.StandardError.Contains("Couldn't join seed nodes after [2] attempts", StringComparison.Ordinal) || plain.HasExited, Timeout, () => plain.StandardErrorTail());
            Assert.Contains("not an SSL/TLS record", first.StandardError, StringComparison.Ordinal);
            Assert.False(plain.HasExited, plain.StandardErrorTail());
            plain.Interrupt();
            await plain.WaitForExitAsync(Timeout);
        }

        foreach (var api in new[] { firstApi, secondApi })
        {
            var members = await ClusterNodes.MembersAsync(http, api);
            Assert.Equal(2, members.Count);
            Assert.DoesNotContain(members, m => m.EndsWith($":{plainPort}", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(Password, first.StandardError, StringComparison.Ordinal);
        second.Interrupt();
        Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        first.Interrupt();
        Assert.Equal(0, await first.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task The_password_is_no_command_line_option()
    {
        var (code, help) = await FraudProcess.RunAsync(Timeout, "run", "--help");
        Assert.Equal(0, code);
        var options = string.Join('\n', help.StandardOutput);
        Assert.Contains("--node-tls-certificate", options, StringComparison.Ordinal);
        Assert.Contains("--node-tls-ca", options, StringComparison.Ordinal);
        Assert.DoesNotContain("--node-tls-password", options, StringComparison.Ordinal);
    }

    private async Task MakeCertificatesAsync(string directory, string names)
    {
        await using var certs = FraudProcess.Start(new Dictionary<string, string> { ["FRAUD_NODE_TLS_PASSWORD"] = Password }, "certs", "--out", directory, "--names", names);
        Assert.True(await certs.WaitForExitAsync(Timeout) == 0, certs.StandardErrorTail());
    }

    private static Dictionary<string, string> Tls(string directory, string node) => new()
    {
        ["FRAUD_NODE_TLS_CERTIFICATE"] = Path.Combine(directory, node + ".p12"),
        ["FRAUD_NODE_TLS_CA"] = Path.Combine(directory, NodeCertificates.CaFile),
        ["FRAUD_NODE_TLS_PASSWORD"] = Password,
    };

    private static string[] Run(int port, int seed) =>
        ["run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--node-port", $"{port}", "--seed-nodes", $"127.0.0.1:{seed}"];
}
