using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Hosting;
using Orleans.MoE.Silo.Web;

namespace Orleans.MoE.Silo.Embedded;

/// <summary>What an embedded cluster is made of: where artifacts and grain state go, and the pools of its one silo.</summary>
public sealed record EmbeddedClusterOptions
{
    public required string ArtifactRoot { get; init; }

    public required string StateDirectory { get; init; }

    /// <summary>The silo's pools; they share this machine's cores.</summary>
    public required IReadOnlyList<DevicePool> Pools { get; init; }

    /// <summary>The command that starts workers; empty = this program (see <see cref="MoeSiloOptions.WorkerCommand"/>).</summary>
    public string WorkerCommand { get; init; } = "";

    /// <summary>The silo's log level on the console (the experiment's own view is the client's).</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>The web view's loopback port: 0 = a free one, null = no web view.</summary>
    public int? WebPort { get; init; } = 0;
}

/// <summary>
/// A cluster of one silo in this process: localhost clustering on free loopback ports, grain state
/// in files, no server to start. It runs the same grains and worker jobs as a real cluster.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedCluster(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    /// <summary>The web view's address ("http://127.0.0.1:PORT/"), or null when it is off.</summary>
    public string? WebUrl => _host.Services.GetService<WebViewHost>()?.Url;

    public static async Task<EmbeddedCluster> StartAsync(EmbeddedClusterOptions options, CancellationToken cancellation = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            [SiloConfiguration.ArtifactRoot] = options.ArtifactRoot,
            [SiloConfiguration.StateDirectory] = options.StateDirectory,
            [SiloConfiguration.SiloName] = "embedded",
            [SiloConfiguration.SiloPort] = FreePort().ToString(CultureInfo.InvariantCulture),
            [SiloConfiguration.GatewayPort] = FreePort().ToString(CultureInfo.InvariantCulture),
            [$"{MoeSiloOptions.Section}:{nameof(MoeSiloOptions.WorkerCommand)}"] = options.WorkerCommand,
        };
        if (options.WebPort is { } webPort) settings[WebViewOptions.PortKey] = webPort.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in DevicePoolMetadata.Format(options.Pools)) settings[$"{SiloConfiguration.Metadata}:{key}"] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Orleans", level => level >= LogLevel.Error);
        builder.AddMoeSilo();
        var host = builder.Build();
        await host.StartAsync(cancellation);
        return new EmbeddedCluster(host);
    }

    /// <summary>Stops the silo gracefully: its workers checkpoint and stop first.</summary>
    public Task StopAsync(CancellationToken cancellation = default) => _host.StopAsync(cancellation);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
