using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Hosting;
using Orleans.MoE.Silo.Web;

namespace Orleans.MoE.Client.Cluster;

/// <summary>
/// `moe silo`: runs a silo until SIGTERM or Ctrl-C (its workers checkpoint and stop first).
/// Settings come from appsettings.json, environment variables (<c>Orleans__Metadata__pool0_class</c>,
/// <c>MoE__Silo__JobStallTimeout</c>, <c>MOE_CLUSTER</c>) and these flags, the flags winning.
/// </summary>
internal static class SiloCommand
{
    public static Command Create()
    {
        var cluster = ClusterOption.Create("Redis connection string of the cluster to join (default MOE_CLUSTER); none: an embedded cluster of this silo alone.");
        var name = new Option<string?>("--name") { Description = "The silo's name (shown by moe silos)." };
        var artifacts = new Option<string?>("--artifacts") { Description = "The artifact store: a directory every silo sees at the same path (default ./runs)." };
        var pools = new Option<string[]>("--pool")
        {
            Description = "A device pool, e.g. class=low-cost,kind=cpu,devices=2,memory-gib=24,price=0.35,throughput=1, or class=gpu,kind=cuda,devices=auto (the GPUs libtorch sees; repeatable; replaces pools from configuration).",
            AllowMultipleArgumentsPerToken = false,
        };
        var advertise = new Option<string?>("--advertise") { Description = "The address other silos and clients reach this one at (e.g. 127.0.0.1 on one machine)." };
        var siloPort = new Option<int?>("--silo-port") { Description = "Silo-to-silo port (default 11111)." };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "Client gateway port (default 30000)." };
        var clusterId = new Option<string?>("--cluster-id") { Description = $"Orleans cluster id (default {SiloConfiguration.DefaultClusterId})." };
        var webPort = new Option<int?>("--web-port") { Description = "Serve the web view (experiments page and Orleans Dashboard) on this port; 0 = a free one (default: no web view)." };
        var webAddress = new Option<string?>("--web-address") { Description = "The address the web view listens on (default 127.0.0.1)." };
        var command = new Command("silo", "Run a silo of an Orleans.MoE cluster: it declares its device pools and runs jobs in worker processes.");
        foreach (var option in new Option[] { cluster, name, artifacts, pools, advertise, siloPort, gatewayPort, clusterId, webPort, webAddress }) command.Options.Add(option);
        command.SetAction(async (parse, cancellation) =>
        {
            var flags = new Dictionary<string, string?>
            {
                [SiloConfiguration.Redis] = ClusterOption.Resolve(parse.GetValue(cluster)),
                [SiloConfiguration.SiloName] = parse.GetValue(name),
                [SiloConfiguration.ArtifactRoot] = parse.GetValue(artifacts),
                [SiloConfiguration.AdvertisedAddress] = parse.GetValue(advertise),
                [SiloConfiguration.SiloPort] = parse.GetValue(siloPort)?.ToString(CultureInfo.InvariantCulture),
                [SiloConfiguration.GatewayPort] = parse.GetValue(gatewayPort)?.ToString(CultureInfo.InvariantCulture),
                [SiloConfiguration.ClusterId] = parse.GetValue(clusterId),
                [WebViewOptions.PortKey] = parse.GetValue(webPort)?.ToString(CultureInfo.InvariantCulture),
                [$"{WebViewOptions.Section}:{nameof(WebViewOptions.ListenAddress)}"] = parse.GetValue(webAddress),
            };
            var builder = Host.CreateApplicationBuilder();
            var poolFlags = parse.GetValue(pools) ?? [];
            if (poolFlags.Length > 0)
            {
                // Pools given as flags replace those of the configuration files and variables.
                foreach (var key in builder.Configuration.GetSection(SiloConfiguration.Metadata).GetChildren().Select(c => c.Key).Where(k => k.StartsWith("pool", StringComparison.Ordinal)).ToList())
                    flags[$"{SiloConfiguration.Metadata}:{key}"] = null;
                foreach (var (key, value) in DevicePoolMetadata.Format(poolFlags.Select(PoolFlag.Parse).ToList()))
                    flags[$"{SiloConfiguration.Metadata}:{key}"] = value;
                for (var i = 0; i < poolFlags.Length; i++)
                    foreach (var field in PoolFlag.AutoFields(poolFlags[i]))
                        flags[$"{SiloConfiguration.Metadata}:pool{i}_{field}"] = GpuPoolResolver.Auto;
            }
            builder.Configuration.AddInMemoryCollection(flags.Where(f => f.Value is not null || f.Key.StartsWith(SiloConfiguration.Metadata, StringComparison.Ordinal)));
            builder.AddMoeSilo();
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(3));
            using var host = builder.Build();
            var grace = host.Services.GetRequiredService<IOptions<MoeSiloOptions>>().Value.StopGracePeriod;
            host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout = grace + TimeSpan.FromSeconds(30);
            await host.RunAsync(cancellation);
            return 0;
        });
        return command;
    }
}
