using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.MoE.Silo.Hosting;
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

    public static async Task<ClusterConnection> ConnectAsync(string redis, CancellationToken cancellation = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        var options = ConfigurationOptions.Parse(redis);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = Environment.GetEnvironmentVariable("Orleans__ClusterId") ?? SiloConfiguration.DefaultClusterId;
                o.ServiceId = Environment.GetEnvironmentVariable("Orleans__ServiceId") ?? SiloConfiguration.DefaultServiceId;
            });
            client.UseRedisClustering(o => o.ConfigurationOptions = options);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellation);
        }
        catch (Exception e) when (e is RedisConnectionException or OrleansException or TimeoutException)
        {
            host.Dispose();
            throw new IOException($"could not connect to the cluster at {options.ToString(includePassword: false)}: {e.Message}; is its Redis running and has a silo joined?", e);
        }
        return new ClusterConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
