using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orleans.MoE.Silo.Security;

/// <summary>
/// The cluster's certificate authority and the certificates it signs for silos and clients, made
/// with .NET's <see cref="CertificateRequest"/>: ECDSA P-256 keys, the CA valid for ten years, a
/// member's certificate for two, usable both as a TLS server and as a TLS client (mutual TLS).
/// </summary>
public static class ClusterCertificates
{
    public const string CaCertificateFile = "ca.pem";
    public const string CaKeyFile = "ca.key.pem";

    /// <summary>Creates the CA in <paramref name="directory"/>: its certificate (PEM) and its private key (PEM, readable by the owner only).</summary>
    public static X509Certificate2 CreateAuthority(string directory, string name)
    {
        Directory.CreateDirectory(directory);
        var certificatePath = Path.Combine(directory, CaCertificateFile);
        var keyPath = Path.Combine(directory, CaKeyFile);
        if (File.Exists(certificatePath) || File.Exists(keyPath))
            throw new IOException($"{directory} already holds a CA ({CaCertificateFile}, {CaKeyFile}); a new one would lock out every certificate it signed. Use another directory");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
        File.WriteAllText(certificatePath, ca.ExportCertificatePem());
        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        return ca;
    }

    /// <summary>
    /// Issues a member certificate signed by the CA of <paramref name="caDirectory"/> and writes it with
    /// its key as PKCS#12 (<paramref name="output"/>), protected by <paramref name="password"/> (may be empty).
    /// </summary>
    public static X509Certificate2 Issue(string caDirectory, string name, IReadOnlyList<string> hosts, string output, string password)
    {
        using var ca = LoadAuthority(caDirectory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "server authentication"), new Oid("1.3.6.1.5.5.7.3.2", "client authentication")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
            else names.AddDnsName(host);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;   // a positive serial number
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(2), serial);
        var withKey = issued.CopyWithPrivateKey(key);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        var chain = new X509Certificate2Collection { withKey, X509CertificateLoader.LoadCertificate(ca.RawData) };
        File.WriteAllBytes(output, chain.Export(X509ContentType.Pkcs12, password)!);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return withKey;
    }

    /// <summary>The CA's certificate (public part only), to check members' certificates against.</summary>
    public static X509Certificate2 LoadAuthorityCertificate(string path)
    {
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is CryptographicException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"{path}: not the cluster CA's certificate (PEM) ({e.Message}); make one with `moe certs ca`", e);
        }
    }

    private static X509Certificate2 LoadAuthority(string directory)
    {
        var certificatePath = Path.Combine(directory, CaCertificateFile);
        var keyPath = Path.Combine(directory, CaKeyFile);
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
            throw new IOException($"{directory} holds no CA ({CaCertificateFile} and {CaKeyFile}); make one with `moe certs ca --out {directory}`");
        return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
    }

    private static void WritePrivate(string path, string content)
    {
        using (File.Create(path)) { }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, content);
    }
}
