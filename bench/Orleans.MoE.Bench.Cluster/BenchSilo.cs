using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.MoE.Silo.Hosting;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>
/// This program as a silo of the benchmark's cluster (`silo --cluster ... --name ...`, the flags of
/// `moe silo` that <see cref="SiloProcess"/> passes; pools come as metadata variables): the same
/// host as `moe silo`, plus the benchmark's ping and probe grains.
/// </summary>
internal static class BenchSilo
{
    private static readonly Dictionary<string, string> Flags = new()
    {
        ["--cluster"] = SiloConfiguration.Redis, ["--name"] = SiloConfiguration.SiloName, ["--artifacts"] = SiloConfiguration.ArtifactRoot,
        ["--advertise"] = SiloConfiguration.AdvertisedAddress, ["--silo-port"] = SiloConfiguration.SiloPort, ["--gateway-port"] = SiloConfiguration.GatewayPort,
    };

    public static async Task RunAsync(string[] args)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i + 1 < args.Length; i += 2)
            settings[Flags.TryGetValue(args[i], out var key) ? key : throw new ArgumentException($"unknown silo flag {args[i]}")] = args[i + 1];
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMoeSilo();
        await builder.Build().RunAsync();
    }

    /// <summary>The silo metadata variables that declare one pool.</summary>
    public static Dictionary<string, string> Pool(string deviceClass, double price, int devices) => new()
    {
        ["Orleans__Metadata__pool0_class"] = deviceClass,
        ["Orleans__Metadata__pool0_devices"] = devices.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Orleans__Metadata__pool0_dollars_per_hour"] = price.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>`dotnet` and this program's assembly: how the benchmark starts its silos.</summary>
    public static IReadOnlyList<string> Command => ["dotnet", typeof(BenchSilo).Assembly.Location];
}
