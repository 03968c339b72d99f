using System.Net;
using System.Net.Sockets;

namespace Orleans.MoE.Torch.Distributed;

/// <summary>
/// Where the ranks of one group meet: the host and port of the TCPStore that rank 0 serves.
/// Written "host:port", e.g. "127.0.0.1:29500" or "trainer-0.moe:29500".
/// </summary>
public readonly record struct RendezvousAddress(string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port}";

    /// <summary>Parses "host:port"; the error says what a valid address looks like.</summary>
    public static RendezvousAddress Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1
            || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw new FormatException($"rendezvous address '{text}' is not host:port with a port in 1..65535 (e.g. 127.0.0.1:29500)");
        return new RendezvousAddress(text[..colon].Trim('[', ']'), port);
    }

    /// <summary>
    /// The local address gloo should listen on so that the other ranks reach it: loopback when the
    /// rendezvous host is local, otherwise the address of the interface that routes to it.
    /// </summary>
    public string LocalBindAddress()
    {
        var addresses = IPAddress.TryParse(Host, out var literal) ? [literal] : Dns.GetHostAddresses(Host);
        var target = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        if (IPAddress.IsLoopback(target)) return target.ToString();
        // Connecting a UDP socket sends nothing; it only asks the kernel which local address routes there.
        using var probe = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(target, Port);
        return ((IPEndPoint)probe.LocalEndPoint!).Address.ToString();
    }

    /// <summary>A free TCP port on loopback, for a group whose ranks all run on this machine.</summary>
    public static int FreeLocalPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
