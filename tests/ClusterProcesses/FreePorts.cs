using System.Net;
using System.Net.Sockets;

namespace Orleans.MoE.ClusterProcesses;

internal static class FreePorts
{
    /// <summary>A TCP port on the loopback interface that nothing listens on now.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
