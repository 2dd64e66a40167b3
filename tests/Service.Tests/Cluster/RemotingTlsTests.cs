using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;

namespace FraudActors.Service.Tests.Cluster;

/// <summary>
/// Remoting's mutual TLS check: a peer is accepted only with a certificate that chains to the
/// job's CA; the files <c>fraud certs</c> writes serve it, and bad TLS settings stop the start
/// naming the key.
/// </summary>
public sealed class RemotingTlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fraud-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_peer_is_accepted_with_a_certificate_of_the_jobs_CA_and_refused_with_another_CAs_or_none()
    {
        using var ca = NodeCertificates.CreateCa("job CA");
        using var foreignCa = NodeCertificates.CreateCa("another CA");
        using var member = NodeCertificates.Issue(ca, "node-1");
        using var stranger = NodeCertificates.Issue(foreignCa, "node-1");
        var validate = RemotingTls.Validator([X509CertificateLoader.LoadCertificate(ca.RawData)]);

        // The handshake reports a name mismatch and an untrusted root for our private CA: the validator decides alone.
        const SslPolicyErrors errors = SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch;
        Assert.True(validate(member, null, "peer", errors, NoLogger.Instance));
        Assert.False(validate(stranger, null, "peer", errors, NoLogger.Instance));
        Assert.False(validate(foreignCa, null, "peer", errors, NoLogger.Instance));
        Assert.False(validate(null, null, "peer", SslPolicyErrors.RemoteCertificateNotAvailable, NoLogger.Instance));
    }

    [Fact]
    public void The_certs_command_files_serve_a_node_and_a_second_run_signs_with_the_same_CA()
    {
        NodeCertificates.Write(_directory, ["node-1"], "secret");
        NodeCertificates.Write(_directory, ["node-2"], "secret");

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(Path.Combine(_directory, NodeCertificates.CaFile));
        foreach (var node in new[] { "node-1", "node-2" })
        {
            var tls = new NodeTlsSettings(Path.Combine(_directory, node + ".p12"), "secret", Path.Combine(_directory, NodeCertificates.CaFile));
            var setup = RemotingTls.Setup(tls);
            Assert.True(setup.Certificate.HasPrivateKey);
            Assert.True(setup.RequireMutualAuthentication);
            Assert.Equal($"CN={node}, O=FraudActors", setup.Certificate.Subject);
            Assert.True(RemotingTls.ChainsTo(setup.Certificate, authorities));
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, NodeCertificates.CaKeyFile)));
        }
    }

    [Fact]
    public void A_wrong_password_or_a_certificate_of_another_CA_stops_the_start_naming_the_option()
    {
        var other = Path.Combine(_directory, "other");
        NodeCertificates.Write(_directory, ["node-1"], "secret");
        NodeCertificates.Write(other, ["node-2"], "secret");
        var ca = Path.Combine(_directory, NodeCertificates.CaFile);

        var wrongPassword = Assert.Throws<ConfigurationException>(() => RemotingTls.Setup(new(Path.Combine(_directory, "node-1.p12"), "guess", ca)));
        Assert.StartsWith("--node-tls-certificate (FRAUD_NODE_TLS_CERTIFICATE): cannot read", wrongPassword.Message, StringComparison.Ordinal);
        var foreign = Assert.Throws<ConfigurationException>(() => RemotingTls.Setup(new(Path.Combine(other, "node-2.p12"), "secret", ca)));
        Assert.Contains("does not chain to the CA in --node-tls-ca", foreign.Message, StringComparison.Ordinal);
        var noCa = Assert.Throws<ConfigurationException>(() => RemotingTls.Setup(new(Path.Combine(_directory, "node-1.p12"), "secret", Path.Combine(_directory, "node-1.p12"))));
        Assert.StartsWith("--node-tls-ca", noCa.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fraud.node.tls.certificate = node.p12", "--node-tls-ca")]
    [InlineData("fraud.node.tls.ca = ca.pem", "--node-tls-certificate")]
    public void Half_the_TLS_settings_is_refused_naming_the_missing_one(string line, string missing)
    {
        var file = Path.Combine(_directory, "tls.conf");
        File.WriteAllText(file, line);
        var error = Assert.Throws<ConfigurationException>(() => FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [], file, null, _ => null)));
        Assert.StartsWith(missing + " (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_password_is_read_from_the_environment_and_never_printed()
    {
        var environment = new Dictionary<string, string>
        {
            ["FRAUD_NODE_TLS_CERTIFICATE"] = "node.p12",
            ["FRAUD_NODE_TLS_CA"] = "ca.pem",
            ["FRAUD_NODE_TLS_PASSWORD"] = "s3cret-pass",
        };
        var settings = FraudSettings.From(SettingsLoader.Load(
            new Dictionary<SettingKey, string>(), [SettingKeys.NodeTlsCertificate, SettingKeys.NodeTlsCa, SettingKeys.NodeTlsPassword], null, null, environment.GetValueOrDefault));
        Assert.Equal("s3cret-pass", settings.Node.Tls!.Password);
        Assert.Equal(Path.GetFullPath("node.p12"), settings.Node.Tls.Certificate);
        Assert.DoesNotContain("s3cret", settings.Node.Tls.ToString(), StringComparison.Ordinal);
        Assert.True(SettingKeys.NodeTlsPassword.EnvironmentOnly);
    }
}
