using Microsoft.Extensions.Configuration;

namespace Orleans.MoE.Silo.Security;

/// <summary>
/// Mutual TLS of a real cluster: this member's certificate (PKCS#12 with its key) and the cluster CA's
/// certificate (PEM), from configuration (<c>MoE:Tls:*</c>, <c>MoE__Tls__*</c> variables) for silos and
/// clients alike. The certificate's password never sits in a configuration file: it comes from the
/// file <c>MoE:Tls:PasswordFile</c> names, or from <c>MOE_TLS_PASSWORD</c>. No certificate: no TLS.
/// </summary>
public sealed record ClusterTlsSettings(string Certificate, string Authority, string Password)
{
    public const string CertificateKey = "MoE:Tls:Certificate";
    public const string AuthorityKey = "MoE:Tls:Ca";
    public const string PasswordFileKey = "MoE:Tls:PasswordFile";
    public const string PasswordVariable = "MOE_TLS_PASSWORD";

    /// <summary>The settings, or null when no certificate is configured.</summary>
    public static ClusterTlsSettings? From(IConfiguration config)
    {
        if (config[CertificateKey] is not { Length: > 0 } certificate) return null;
        var authority = config[AuthorityKey] is { Length: > 0 } ca ? ca
            : throw new ArgumentException($"{CertificateKey} is set but {AuthorityKey} is not: give the cluster CA's certificate (ca.pem) to check the other members against");
        return new ClusterTlsSettings(certificate, authority, Secrets.Read(config[PasswordFileKey], PasswordVariable, PasswordFileKey));
    }
}

/// <summary>Secrets come from a file (its first line) or an environment variable, never from a file of settings.</summary>
public static class Secrets
{
    public static string Read(string? file, string variable, string fileKey)
    {
        if (file is { Length: > 0 })
        {
            try
            {
                return File.ReadLines(file).FirstOrDefault()?.TrimEnd('\r') ?? "";
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                throw new IOException($"{fileKey}: cannot read {file} ({e.Message})", e);
            }
        }
        return Environment.GetEnvironmentVariable(variable) ?? "";
    }
}
