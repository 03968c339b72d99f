using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting;
using Orleans.MoE.Grains;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Health;
using Orleans.MoE.Silo.Jobs;
using Orleans.MoE.Silo.Security;
using Orleans.MoE.Silo.Storage;
using Orleans.MoE.Silo.Telemetry;
using Orleans.MoE.Silo.Web;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Storage;
using StackExchange.Redis;

namespace Orleans.MoE.Silo.Hosting;

/// <summary>
/// Hosting of an Orleans.MoE silo in a few lines: <c>Host.CreateApplicationBuilder(args).AddMoeSilo()</c>.
/// With a Redis connection string (<see cref="SiloConfiguration.Redis"/>) it joins a real cluster,
/// with membership, grain state and reminders in Redis; without one it is an embedded cluster of
/// one silo on localhost with its state in files. Either way it declares its device pools as silo
/// metadata and runs jobs in worker processes under its supervisor.
/// </summary>
public static class MoeSiloHosting
{
    public static IHostApplicationBuilder AddMoeSilo(this IHostApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var metadata = SiloMetadataOf(config);   // refuses to start on malformed pools, naming the key
        var redis = RedisOf(config);
        var siloPort = Port(config, SiloConfiguration.SiloPort, 11111);
        var gatewayPort = Port(config, SiloConfiguration.GatewayPort, 30000);

        // Mutual TLS on a real cluster; an embedded cluster (all in this process, on loopback) needs none.
        var tls = redis is not null && ClusterTlsSettings.From(config) is { } settings ? ClusterTls.Load(settings) : null;
        if (tls is not null)
        {
            builder.Services.AddSingleton(tls);
            builder.Services.AddHostedService<TlsLogging>();   // before the silo starts listening
        }
        var artifactRoot = Path.GetFullPath(config[SiloConfiguration.ArtifactRoot] ?? "runs");
        builder.Services.Configure<ArtifactStoreOptions>(o => o.Root = artifactRoot);
        builder.AddMoeTelemetry("moe-silo", artifactRoot);
        builder.Services.Configure<MoeSiloOptions>(config.GetSection(MoeSiloOptions.Section));
        builder.Services.Configure<SiloHealthOptions>(config.GetSection(SiloHealthOptions.Section));
        builder.Services.AddHostedService<SiloHealthEndpoint>();   // before the silo: it answers while the silo joins and after it stops
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = config[SiloConfiguration.ClusterId] ?? SiloConfiguration.DefaultClusterId;
                o.ServiceId = config[SiloConfiguration.ServiceId] ?? SiloConfiguration.DefaultServiceId;
            });
            if (config[SiloConfiguration.SiloName] is { } name) silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.Services.Configure<ClusterMembershipOptions>(config.GetSection(SiloConfiguration.Membership));
            if (redis is null)
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort);
                var stateDirectory = Path.GetFullPath(config[SiloConfiguration.StateDirectory] ?? Path.Combine("runs", ".cluster-state"));
                silo.Services.AddGrainStorage(StorageNames.Cluster, (sp, _) => new FileGrainStorage(stateDirectory, sp.GetRequiredService<IGrainStorageSerializer>()));
                silo.UseInMemoryReminderService();
            }
            else
            {
                var redisOptions = RedisOptions(config, redis);
                if (tls is not null) silo.UseTls(tls.Certificate, tls.Configure);
                silo.UseRedisClustering(o => o.ConfigurationOptions = redisOptions);
                silo.AddRedisGrainStorage(StorageNames.Cluster, o => o.ConfigurationOptions = redisOptions);
                silo.UseRedisReminderService(o => o.ConfigurationOptions = redisOptions);
                var advertised = config[SiloConfiguration.AdvertisedAddress] is { } a ? IPAddress.Parse(a) : null;
                if (advertised is not null) silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: false);
                else silo.ConfigureEndpoints(siloPort, gatewayPort);
            }
            // Only in a pod (the manifests of k8s/ set it): pod name, pod IP and the labels' cluster id, and dead silos' pods deleted.
            if (config.GetValue<bool>(SiloConfiguration.KubernetesHosting)) silo.UseKubernetesHosting();
            silo.UseSiloMetadata(metadata);
            silo.AddActivityPropagation();   // grain calls join their caller's trace, across silos
            // The Orleans Dashboard's grains, profiler and telemetry only where the web view serves it.
            if (config[WebViewOptions.PortKey] is not null) silo.AddDashboard();
            silo.AddMoeGrains();
        });
        // Registered after the silo, so that it stops first: workers checkpoint and report while the silo still runs.
        builder.Services.AddSingleton<WorkerSupervisor>();
        builder.Services.AddSingleton<IJobSupervisor>(sp => sp.GetRequiredService<WorkerSupervisor>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerSupervisor>());
        // The web view only when asked for: a silo without MoE:Web:Port opens no HTTP port.
        if (config[WebViewOptions.PortKey] is not null)
        {
            var web = config.GetSection(WebViewOptions.Section);
            Port(config, WebViewOptions.PortKey, 0, allowZero: true);   // refuses a malformed port, naming the key
            var addressKey = $"{WebViewOptions.Section}:{nameof(WebViewOptions.ListenAddress)}";
            if (config[addressKey] is { } address && !IPAddress.TryParse(address, out _))
                throw new SiloMetadataException([$"{addressKey}: '{address}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)"]);
            builder.Services.Configure<WebViewOptions>(web);
            builder.Services.AddSingleton<WebViewHost>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<WebViewHost>());
        }
        return builder;
    }

    /// <summary>
    /// The Redis connection: the connection string, and its password from the file
    /// <c>MoE:Cluster:RedisPasswordFile</c> names or from <c>MOE_REDIS_PASSWORD</c> (never from the
    /// connection string in a settings file). The options never print the password.
    /// </summary>
    public static ConfigurationOptions RedisOptions(IConfiguration config, string redis)
    {
        var options = ConfigurationOptions.Parse(redis);
        var password = Secrets.Read(config[SiloConfiguration.RedisPasswordFile], SiloConfiguration.RedisPasswordVariable, SiloConfiguration.RedisPasswordFile);
        if (password.Length > 0) options.Password = password;
        return options;
    }

    /// <summary>The Redis connection string from configuration or <c>MOE_CLUSTER</c>; null for an embedded cluster.</summary>
    public static string? RedisOf(IConfiguration config) =>
        config[SiloConfiguration.Redis] is { Length: > 0 } r ? r
        : Environment.GetEnvironmentVariable(SiloConfiguration.RedisVariable) is { Length: > 0 } e ? e : null;

    /// <summary>
    /// The silo metadata: the declared pools (validated, cuda pools resolved from the GPUs, see
    /// <see cref="GpuPoolResolver"/>), this machine's cores and the advertised host.
    /// </summary>
    private static Dictionary<string, string> SiloMetadataOf(IConfiguration config)
    {
        var configured = config.GetSection(SiloConfiguration.Metadata).GetChildren()
            .Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!);
        // cuda pools take their GPU count and memory from this machine's libtorch (devices: auto).
        var entries = GpuPoolResolver.Resolve(configured, GpuInventory.Query);
        var pools = DevicePoolMetadata.Parse(entries);
        if (pools.Count == 0)
            throw new SiloMetadataException([$"{SiloConfiguration.Metadata}:pool0_class: missing; a silo declares at least one device pool (e.g. --pool class=low-cost,devices=1)"]);
        entries.TryAdd(DevicePoolMetadata.CoresKey, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        entries.TryAdd(DevicePoolMetadata.HostKey, config[SiloConfiguration.AdvertisedAddress] ?? "127.0.0.1");
        return entries;
    }

    private static int Port(IConfiguration config, string key, int fallback, bool allowZero = false)
    {
        if (config[key] is not { } text) return fallback;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port < 65536 && (port > 0 || allowZero)) return port;
        throw new SiloMetadataException([$"{key}: '{text}' is not a port number ({(allowZero ? "0 for a free port, " : "")}1-65535)"]);
    }
}
