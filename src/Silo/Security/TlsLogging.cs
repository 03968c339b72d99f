using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orleans.MoE.Silo.Security;

/// <summary>Gives the cluster's TLS its logger once the host's logging exists (the TLS options are built before it).</summary>
internal sealed class TlsLogging(ClusterTls tls, ILoggerFactory loggers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        tls.Logger = loggers.CreateLogger("Orleans.MoE.Tls");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
