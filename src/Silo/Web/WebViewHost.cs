using System.Net;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Orleans.MoE.Grains;

namespace Orleans.MoE.Silo.Web;

/// <summary>
/// The silo's web view: a small HTTP server of its own (started after the silo, stopped before it)
/// that serves the experiments page, its JSON and the experiments' HTML reports. It exists only
/// when <see cref="WebViewOptions.PortKey"/> is configured.
/// </summary>
public sealed partial class WebViewHost(IGrainFactory grains, IServiceProvider siloServices, IOptions<WebViewOptions> options,
    IOptions<ArtifactStoreOptions> artifacts, ILogger<WebViewHost> logger) : IHostedService
{
    private WebApplication? _app;

    /// <summary>The address it serves, once started ("http://127.0.0.1:PORT/").</summary>
    public string? Url { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        // Job statuses as their names ("Running"), as `moe status` prints them.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(settings.ListenAddress), settings.Port));
        ForwardDashboardServices(builder.Services);
        var app = builder.Build();
        app.MapOrleansDashboard(DashboardPrefix);
        app.MapGet("/", () => Results.Content(Page.Value, "text/html; charset=utf-8"));
        app.MapGet("/api/experiments", async () => Results.Json(await ClusterOverview.ExperimentsAsync(grains)));
        app.MapGet("/api/silos", async () => Results.Json(await ClusterOverview.SilosAsync(grains)));
        app.MapGet("/reports/{**path}", (string path) =>
            ReportFiles.Resolve(artifacts.Value.Root, path) is { } file
                ? Results.File(file, "text/html; charset=utf-8")
                : Results.NotFound($"no report at '{path}': the web view serves only HTML reports under an experiment's directory of the artifact store"));
        await app.StartAsync(cancellationToken);
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = bound.TrimEnd('/') + "/";
        LogServing(logger, Url);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is null) return;
        await _app.StopAsync(cancellationToken);
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>Where the Orleans Dashboard is served.</summary>
    public const string DashboardPrefix = "/dashboard";

    /// <summary>
    /// The Orleans Dashboard registers its services in the silo (<c>AddDashboard</c>), and its
    /// endpoints resolve them from this server's container: each is handed on from the silo's, so
    /// both see the same profiler and log. Its types are internal; they are found by name.
    /// </summary>
    private void ForwardDashboardServices(IServiceCollection services)
    {
        var assembly = typeof(DashboardOptions).Assembly;
        foreach (var name in new[] { "EmbeddedAssetProvider", "IDashboardClient", "DashboardLogger" })
        {
            var type = assembly.GetTypes().SingleOrDefault(t => t.Name == name)
                ?? throw new InvalidOperationException($"the Orleans Dashboard assembly {assembly.GetName()} has no type {name}: the web view expects Microsoft.Orleans.Dashboard 10.4.x");
            services.AddSingleton(type, _ => siloServices.GetRequiredService(type));
        }
        services.AddSingleton(_ => siloServices.GetRequiredService<IOptions<DashboardOptions>>());
    }

    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(WebViewHost).Assembly.GetManifestResourceStream("Orleans.MoE.Silo.Web.experiments.html")
            ?? throw new InvalidOperationException("the experiments page is missing from the silo assembly (EmbeddedResource Web/experiments.html)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    [LoggerMessage(Level = LogLevel.Information, Message = "Web view at {Url}")]
    private static partial void LogServing(ILogger logger, string url);
}
