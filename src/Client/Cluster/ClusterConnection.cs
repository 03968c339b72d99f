using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.MoE.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.MoE.Silo.Security;
using Orleans.MoE.Silo.Telemetry;
using StackExchange.Redis;

namespace Orleans.MoE.Client.Cluster;

/// <summary>A client connected to a real cluster through its Redis membership table.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    /// <summary>How long a command waits for the cluster to admit it.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    public static async Task<ClusterConnection> ConnectAsync(string redis, CancellationToken cancellation = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();   // MoE__Tls__*, MOE_REDIS_PASSWORD, as a silo reads them
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        var options = MoeSiloHosting.RedisOptions(builder.Configuration, redis);
        var tls = ClusterTlsSettings.From(builder.Configuration) is { } settings ? ClusterTls.Load(settings) : null;
        builder.AddMoeTelemetry("moe-client", artifactRoot: null);   // OTLP only: the silos write the experiments' trace files
        builder.UseOrleansClient(client =>
        {
            client.AddActivityPropagation();
            if (tls is not null) client.UseTls(tls.Certificate, tls.Configure);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = Environment.GetEnvironmentVariable("Orleans__ClusterId") ?? SiloConfiguration.DefaultClusterId;
                o.ServiceId = Environment.GetEnvironmentVariable("Orleans__ServiceId") ?? SiloConfiguration.DefaultServiceId;
            });
            client.UseRedisClustering(o => o.ConfigurationOptions = options);
        });
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch (Exception e) when (e is RedisConnectionException or OrleansException or TimeoutException
                                       || (e is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            host.Dispose();
            var why = e is OperationCanceledException ? $"no gateway answered within {ConnectTimeout.TotalSeconds:F0} s" : e.Message;
            throw new IOException($"could not connect to the cluster at {options.ToString(includePassword: false)}: {why}; " +
                "is its Redis running, has a silo joined, and does this client hold a certificate of the cluster's CA if it uses TLS (MoE__Tls__Certificate)?", e);
        }
        return new ClusterConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
