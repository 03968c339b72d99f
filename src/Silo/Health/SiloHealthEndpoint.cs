using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Orleans.MoE.Silo.Health;

/// <summary>
/// Serves <see cref="SiloHealth"/> over HTTP on <see cref="SiloHealthOptions.Port"/>. Registered before the
/// silo so that it answers while the silo joins (startup 503) and stops after it (liveness holds while
/// workers checkpoint).
/// </summary>
internal sealed partial class SiloHealthEndpoint(
    IOptions<SiloHealthOptions> options, IClusterMembershipService membership, ILocalSiloDetails local,
    IHostApplicationLifetime lifetime, ILogger<SiloHealthEndpoint> logger) : IHostedService
{
    private HttpListener? _listener;
    private Task? _serving;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var port = options.Value.Port;
        if (port == 0) return Task.CompletedTask;
        if (port is < 0 or > 65535)
            throw new ArgumentException($"{SiloHealthOptions.Section}:Port: '{port}' is not a port number (1-65535, or 0 for no health endpoint)");
        var prefix = $"http://{options.Value.ListenAddress}:{port}/";
        var health = new SiloHealth(() => membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress), lifetime.ApplicationStopping);
        _listener = new HttpListener();
        _listener.Prefixes.Add(prefix);
        _listener.Start();
        Listening(logger, prefix);
        _serving = Task.Run(() => ServeAsync(_listener, health), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ServeAsync(HttpListener listener, SiloHealth health)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;   // stopped
            }
            try
            {
                var (status, body) = health.Answer(context.Request.Url?.AbsolutePath ?? "");
                var bytes = Encoding.UTF8.GetBytes(body + "\n");
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain; charset=utf-8";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                ProbeFailed(logger, e.Message);   // the prober hung up; the next probe gets a fresh connection
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null) return;
        _listener.Close();
        if (_serving is not null) await _serving;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health endpoint listening on {Prefix} (healthz/startup, healthz/live, healthz/ready)")]
    private static partial void Listening(ILogger logger, string prefix);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A health probe's answer was not delivered: {Reason}")]
    private static partial void ProbeFailed(ILogger logger, string reason);
}
