using System.CommandLine;
using Orleans.MoE.Silo.Security;

namespace Orleans.MoE.Client.Cluster;

/// <summary>
/// `moe certs`: the cluster's CA and the certificates of its silos and clients, for mutual TLS.
/// `moe certs ca --out DIR` makes the CA (keep ca.key.pem private: whoever holds it can admit members);
/// `moe certs issue --ca DIR --name NAME --out FILE.pfx` signs a member's certificate.
/// </summary>
internal static class CertsCommand
{
    public static Command Create()
    {
        var command = new Command("certs", "Create the cluster's certificate authority and the certificates of its silos and clients (mutual TLS).");
        command.Subcommands.Add(Authority());
        command.Subcommands.Add(Issue());
        return command;
    }

    private static Command Authority()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for ca.pem and ca.key.pem (must not hold a CA yet).", Required = true };
        var name = new Option<string>("--name") { Description = "The CA's name.", DefaultValueFactory = _ => "Orleans.MoE cluster CA" };
        var command = new Command("ca", "Create the cluster's certificate authority.");
        command.Options.Add(output);
        command.Options.Add(name);
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(output)!.FullName;
            var ca = ClusterCertificates.CreateAuthority(directory, parse.GetValue(name)!);
            Console.WriteLine($"CA {ca.Subject} in {directory}: {ClusterCertificates.CaCertificateFile} (give it to every member), " +
                $"{ClusterCertificates.CaKeyFile} (keep it private)");
            return 0;
        });
        return command;
    }

    private static Command Issue()
    {
        var ca = new Option<DirectoryInfo>("--ca") { Description = "The CA's directory (from `moe certs ca`).", Required = true };
        var name = new Option<string>("--name") { Description = "The member's name (its certificate's subject, e.g. the silo name).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The PKCS#12 file to write (certificate and key).", Required = true };
        var hosts = new Option<string[]>("--host") { Description = "Host names or addresses the member is reached at (repeatable).", AllowMultipleArgumentsPerToken = true };
        var passwordFile = new Option<FileInfo?>("--password-file") { Description = $"A file whose first line protects the key (default: {ClusterTlsSettings.PasswordVariable}, else none)." };
        var command = new Command("issue", "Issue a silo's or client's certificate signed by the cluster CA.");
        foreach (var option in new Option[] { ca, name, output, hosts, passwordFile }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var password = Secrets.Read(parse.GetValue(passwordFile)?.FullName, ClusterTlsSettings.PasswordVariable, "--password-file");
            var file = parse.GetValue(output)!.FullName;
            var issued = ClusterCertificates.Issue(parse.GetValue(ca)!.FullName, parse.GetValue(name)!, parse.GetValue(hosts) ?? [], file, password);
            Console.WriteLine($"{issued.Subject}, valid until {issued.NotAfter:yyyy-MM-dd}, signed by {issued.Issuer}: {file}");
            return 0;
        });
        return command;
    }
}
