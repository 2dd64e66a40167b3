using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Remoting's mutual TLS (docs/design.md, "Security"): both sides of every connection present a
/// certificate, and each accepts the other's only if it chains to the job's CA
/// (<c>fraud.node.tls.ca</c>), not to the machine's trust store. Host names are not checked: nodes
/// come and go on addresses the certificates cannot know; the CA is the membership. A peer that
/// speaks plain TCP, shows no certificate, or one from another CA fails the handshake and never
/// reaches the cluster's join protocol.
/// </summary>
public static class RemotingTls
{
    /// <summary>What a refused peer's log line starts with.</summary>
    public const string RefusedPrefix = "remoting TLS: refused";

    /// <summary>Loads the node's certificate and the CA; a file that cannot serve fails at start naming its key.</summary>
    public static DotNettySslSetup Setup(NodeTlsSettings tls)
    {
        var authorities = Authorities(tls.Ca);
        var certificate = Certificate(tls);
        if (!ChainsTo(certificate, authorities))
        {
            throw new ConfigurationException(
                $"{SettingKeys.NodeTlsCertificate.Option}: '{tls.Certificate}' ({certificate.Subject}) does not chain to the CA in {SettingKeys.NodeTlsCa.Option} '{tls.Ca}': the other nodes would refuse it");
        }

        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, Validator(authorities));
    }

    /// <summary>The handshake's check of a peer: a certificate that chains to one of <paramref name="authorities"/>.</summary>
    public static CertificateValidationCallback Validator(X509Certificate2Collection authorities) =>
        (certificate, _, peer, errors, log) =>
        {
            if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            {
                log.Warning("{0} {1}: it showed no certificate (mutual TLS needs one from each node)", RefusedPrefix, peer);
                return false;
            }

            if (!ChainsTo(certificate, authorities))
            {
                log.Warning("{0} {1}: its certificate {2} (issuer {3}) does not chain to the CA of {4}", RefusedPrefix, peer, certificate.Subject, certificate.Issuer, SettingKeys.NodeTlsCa.Path);
                return false;
            }

            return true;
        };

    /// <summary>True when <paramref name="certificate"/> is valid now and chains to one of <paramref name="authorities"/> alone.</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate);
    }

    private static X509Certificate2Collection Authorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{SettingKeys.NodeTlsCa.Option} ({SettingKeys.NodeTlsCa.EnvironmentVariable}): cannot read a PEM certificate from '{path}': {e.Message}");
        }

        return authorities.Count > 0
            ? authorities
            : throw new ConfigurationException($"{SettingKeys.NodeTlsCa.Option} ({SettingKeys.NodeTlsCa.EnvironmentVariable}): '{path}' holds no PEM certificate");
    }

    private static X509Certificate2 Certificate(NodeTlsSettings tls)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(tls.Certificate, tls.Password);
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new ConfigurationException(
                $"{SettingKeys.NodeTlsCertificate.Option} ({SettingKeys.NodeTlsCertificate.EnvironmentVariable}): cannot read '{tls.Certificate}' as PKCS#12 with the password of {SettingKeys.NodeTlsPassword.EnvironmentVariable}: {e.Message}");
        }

        return certificate.HasPrivateKey
            ? certificate
            : throw new ConfigurationException($"{SettingKeys.NodeTlsCertificate.Option}: '{tls.Certificate}' holds no private key: a node must prove it owns its certificate");
    }
}
