using Orleans.MoE.Silo.Security;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Mutual TLS with real processes: a silo whose certificate the cluster CA signed admits a client
/// holding such a certificate, and refuses (and logs) a client without one and a client whose
/// certificate another CA signed. Secrets never appear in the logs.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class SecurityTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-tls-" + Guid.NewGuid().ToString("N"));

    public SecurityTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Dictionary<string, string> Tls(string certificate, string ca, string password) => new()
    {
        ["MoE__Tls__Certificate"] = certificate, ["MoE__Tls__Ca"] = ca, [ClusterTlsSettings.PasswordVariable] = password,
    };

    [Fact]
    public async Task OnlyHoldersOfACertificateOfTheClusterCaGetIn()
    {
        // The cluster's CA through the documented command; a second, foreign CA.
        var caDirectory = Path.Combine(_root, "ca");
        using (var ca = ChildProcess.Moe(["certs", "ca", "--out", caDirectory]))
            Assert.True(ca.WaitForExit(TimeSpan.FromMinutes(1)) == 0, ca.Output);
        const string password = "s3cret-password-for-the-key";
        var passwordFile = Path.Combine(_root, "password");
        File.WriteAllText(passwordFile, password + "\n");
        using (var issue = ChildProcess.Moe(["certs", "issue", "--ca", caDirectory, "--name", "secure", "--host", "127.0.0.1",
                   "--out", Path.Combine(_root, "silo.pfx"), "--password-file", passwordFile]))
            Assert.True(issue.WaitForExit(TimeSpan.FromMinutes(1)) == 0, issue.Output);
        ClusterCertificates.Issue(caDirectory, "member-client", ["127.0.0.1"], Path.Combine(_root, "client.pfx"), password);
        var foreign = Path.Combine(_root, "foreign-ca");
        ClusterCertificates.CreateAuthority(foreign, "Some other CA");
        ClusterCertificates.Issue(foreign, "rogue-client", ["127.0.0.1"], Path.Combine(_root, "rogue.pfx"), password);
        var caCertificate = Path.Combine(caDirectory, ClusterCertificates.CaCertificateFile);

        using var redis = new RedisServer();
        using var silo = new SiloProcess("secure", redis.ConnectionString, Path.Combine(_root, "artifacts"), ["class=low-cost"],
            new Dictionary<string, string>
            {
                ["MoE__Tls__Certificate"] = Path.Combine(_root, "silo.pfx"), ["MoE__Tls__Ca"] = caCertificate, ["MoE__Tls__PasswordFile"] = passwordFile,
            });

        // A member: admitted (retried while the silo starts).
        var admitted = false;
        for (var attempt = 0; attempt < 30 && !admitted; attempt++)
        {
            using var member = ChildProcess.Moe(["silos", "--cluster", redis.ConnectionString], Tls(Path.Combine(_root, "client.pfx"), caCertificate, password));
            admitted = member.WaitForExit(TimeSpan.FromMinutes(1)) == 0 && member.Output.Contains("secure");
            if (!admitted) await Task.Delay(1000);
        }
        Assert.True(admitted, "a client with the cluster's certificate was not admitted:\n" + silo.Process.Output);

        using var plain = ChildProcess.Moe(["silos", "--cluster", redis.ConnectionString]);
        Assert.NotEqual(0, plain.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("could not connect to the cluster", plain.Output);

        using var rogue = ChildProcess.Moe(["silos", "--cluster", redis.ConnectionString], Tls(Path.Combine(_root, "rogue.pfx"), caCertificate, password));
        Assert.NotEqual(0, rogue.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("could not connect to the cluster", rogue.Output);

        // The silo says who it refused, and nothing anywhere shows the key's password.
        await Task.Delay(500);
        Assert.Contains("Refused a TLS connection from 127.0.0.1", silo.Process.Output);
        Assert.Contains("CN=rogue-client", silo.Process.Output);
        Assert.DoesNotContain(password, silo.Process.Output + plain.Output + rogue.Output);
    }
}
