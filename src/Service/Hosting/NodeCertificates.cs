using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FraudActors.Service.Hosting;

/// <summary>
/// Makes the files remoting's mutual TLS needs (<see cref="RemotingTls"/>): a job's CA
/// (<c>ca.pem</c>, and its key <c>ca.key.pem</c> to sign later nodes' certificates) and one
/// PKCS#12 file per node, <c>NAME.p12</c>, whose certificate the CA signed for both ends of a
/// connection. An existing CA in the directory is used again, so nodes added later join the same
/// cluster. For users' own PKI the files can come from anywhere; this is the one-shot way.
/// </summary>
public static class NodeCertificates
{
    public const string CaFile = "ca.pem";
    public const string CaKeyFile = "ca.key.pem";

    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    private static readonly TimeSpan NodeLifetime = TimeSpan.FromDays(825);

    /// <summary>Writes (or reuses) the CA in <paramref name="directory"/> and a certificate for each name; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<string> names, string password)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        using var ca = LoadOrCreateCa(directory, written);
        foreach (var name in names)
        {
            var path = Path.Combine(directory, name + ".p12");
            WritePrivate(path, Issue(ca, name).Export(X509ContentType.Pkcs12, password));
            written.Add(path);
        }

        return written;
    }

    /// <summary>A certificate for <paramref name="name"/> signed by <paramref name="ca"/>, with its key.</summary>
    public static X509Certificate2 Issue(X509Certificate2 ca, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=FraudActors", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));

        // A node is server to the nodes that connect to it and client to those it connects to.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var alternative = new SubjectAlternativeNameBuilder();
        alternative.AddDnsName(name);
        request.CertificateExtensions.Add(alternative.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + NodeLifetime < ca.NotAfter ? now + NodeLifetime : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        using var issued = request.Create(ca, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A new self-signed CA named <paramref name="name"/>, with its key.</summary>
    public static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=FraudActors", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now + CaLifetime);
    }

    private static X509Certificate2 LoadOrCreateCa(string directory, List<string> written)
    {
        var certificate = Path.Combine(directory, CaFile);
        var key = Path.Combine(directory, CaKeyFile);
        if (File.Exists(certificate) && File.Exists(key))
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }

        if (File.Exists(certificate) || File.Exists(key))
        {
            throw new Configuration.ConfigurationException(
                $"--out: '{directory}' holds {(File.Exists(certificate) ? CaFile : CaKeyFile)} without {(File.Exists(certificate) ? CaKeyFile : CaFile)}: give both (to sign with that CA) or neither (to make a new one)");
        }

        var ca = CreateCa("FraudActors cluster CA " + DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(certificate, ca.ExportCertificatePem());
        WritePrivate(key, System.Text.Encoding.ASCII.GetBytes(ca.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()));
        written.Add(certificate);
        written.Add(key);
        return ca;
    }

    /// <summary>Writes a file only its owner can read (keys and key stores).</summary>
    private static void WritePrivate(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(content);
    }
}
