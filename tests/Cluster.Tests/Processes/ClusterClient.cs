using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Hosting;
using StackExchange.Redis;

namespace Orleans.MoE.Cluster.Tests.Processes;

/// <summary>An Orleans client of a test's process cluster, to look at it from the outside.</summary>
internal sealed class ClusterClient : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterClient(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    public static async Task<ClusterClient> ConnectAsync(string redis)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (SiloConfiguration.DefaultClusterId, SiloConfiguration.DefaultServiceId));
            c.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
        });
        var host = builder.Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await host.StartAsync();
                return new ClusterClient(host);
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);   // no gateway yet: the silos are still starting
            }
        }
    }

    /// <summary>Waits until the named silos are all live with their pools declared.</summary>
    public Task WaitForSilosAsync(params string[] names) => GrainTestCluster.EventuallyAsync(
        () => Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync(),
        silos => names.All(n => silos.Any(s => s.Name == n && s.Pools.Count > 0)) && silos.Count == names.Length,
        $"silos {string.Join(", ", names)}", TimeSpan.FromSeconds(90));

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
