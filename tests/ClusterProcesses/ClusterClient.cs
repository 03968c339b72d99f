using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Hosting;
using StackExchange.Redis;

namespace Orleans.MoE.ClusterProcesses;

/// <summary>An Orleans client of a process cluster that a test or benchmark started, to look at it from the outside.</summary>
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
            // A call to a grain on a silo that was just killed is answered by nobody: give up on it
            // sooner than the default 30 s, and ask again (the grain re-activates elsewhere).
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
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

    /// <summary>Waits (at most 90 s) until the named silos, and no others, are all live with their pools declared.</summary>
    public async Task WaitForSilosAsync(params string[] names)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            IReadOnlyList<SiloView> silos;
            try
            {
                silos = await Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                continue;   // the ledger's silo was just killed: it re-activates elsewhere
            }
            if (names.All(n => silos.Any(s => s.Name == n && s.Pools.Count > 0)) && silos.Count == names.Length) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"silos {string.Join(", ", names)} did not all join; live: {string.Join(", ", silos.Select(s => s.Name))}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
