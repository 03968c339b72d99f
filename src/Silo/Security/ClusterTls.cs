using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Connections.Security;

namespace Orleans.MoE.Silo.Security;

/// <summary>
/// Mutual TLS between every member of a cluster: each side presents its certificate and accepts the
/// other's only if the cluster CA signed it (host names are not checked: membership is proven by the
/// CA's signature). A refused peer is logged with its address and what it presented.
/// </summary>
public sealed partial class ClusterTls
{
    private static readonly AsyncLocal<EndPoint?> Peer = new();

    private ClusterTls(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2 Authority { get; }

    /// <summary>Where refusals are logged; set once the host's logging exists.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    public static ClusterTls Load(ClusterTlsSettings settings)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(settings.Certificate, settings.Password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception e) when (e is CryptographicException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"{ClusterTlsSettings.CertificateKey}: cannot read {settings.Certificate} as a PKCS#12 certificate with its key " +
                $"({e.Message}); make one with `moe certs issue`, and give its password in the file {ClusterTlsSettings.PasswordFileKey} names or in {ClusterTlsSettings.PasswordVariable}", e);
        }
        if (!certificate.HasPrivateKey) throw new IOException($"{settings.Certificate} holds no private key; make one with `moe certs issue`");
        return new ClusterTls(certificate, ClusterCertificates.LoadAuthorityCertificate(settings.Authority));
    }

    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = IsSignedByTheCluster;
        options.OnAuthenticateAsServer = (context, _) => Peer.Value = context.RemoteEndPoint;
        options.OnAuthenticateAsClient = (context, _) => Peer.Value = context.RemoteEndPoint;
    }

    private bool IsSignedByTheCluster(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        using var ours = new X509Chain();
        ours.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        ours.ChainPolicy.CustomTrustStore.Add(Authority);
        ours.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (ours.Build(certificate)) return true;
        var why = string.Join("; ", ours.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        LogRefused(Logger, Peer.Value?.ToString() ?? "a peer", certificate.Subject, certificate.Issuer, certificate.Thumbprint, Authority.Subject, why);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Refused a TLS connection from {Peer}: its certificate {Subject} (issuer {Issuer}, thumbprint {Thumbprint}) is not signed by the cluster CA {Authority}: {Why}")]
    private static partial void LogRefused(ILogger logger, string peer, string subject, string issuer, string thumbprint, string authority, string why);
}
