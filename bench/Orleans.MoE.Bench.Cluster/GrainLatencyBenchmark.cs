using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>
/// Grain call latency between two silo processes over loopback (a probe grain on silo a calls a
/// ping grain on silo b), against a call within silo a and against a bare TCP round trip over
/// loopback, all measured in the same run.
/// </summary>
internal static class GrainLatencyBenchmark
{
    private const int Calls = 5000;

    public static async Task RunAsync(IClusterClient client)
    {
        var silos = await client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
        var a = silos.Single(s => s.Name == "a").Silo;
        var b = silos.Single(s => s.Name == "b").Silo;
        var probe = client.GetGrain<IProbeGrain>(a);
        var remote = await probe.TimeCallsAsync(b, Calls);
        var local = await probe.TimeCallsAsync(a, Calls);
        var tcp = TcpRoundTrips(Calls);

        Console.WriteLine($"grain call latency, {Calls} sequential calls each (microseconds):");
        Console.WriteLine("  what                                 p50       p99");
        foreach (var (name, values) in new[] { ("silo a -> silo b (two processes)", remote), ("silo a -> silo a (same process)", local), ("TCP round trip on loopback", tcp) })
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-34} {Percentiles.Of(values, 0.5),8:F0}  {Percentiles.Of(values, 0.99),8:F0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT name=grain_call_between_silos p50_us={Percentiles.Of(remote, 0.5):F0} p99_us={Percentiles.Of(remote, 0.99):F0} " +
            $"tcp_p50_us={Percentiles.Of(tcp, 0.5):F0} ratio={Percentiles.Of(remote, 0.5) / Percentiles.Of(tcp, 0.5):F1} local_p50_us={Percentiles.Of(local, 0.5):F0}"));
    }

    /// <summary>16-byte ping-pongs between two sockets of this process over loopback.</summary>
    private static double[] TcpRoundTrips(int count)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var echo = Task.Run(() =>
        {
            using var server = listener.AcceptTcpClient();
            server.NoDelay = true;
            var stream = server.GetStream();
            var buffer = new byte[16];
            for (var i = 0; i < count + 200; i++)
            {
                stream.ReadExactly(buffer);
                stream.Write(buffer);
            }
        });
        using var client = new TcpClient();
        client.NoDelay = true;
        client.Connect(IPAddress.Loopback, port);
        var s = client.GetStream();
        var message = new byte[16];
        var latencies = new double[count];
        for (var i = 0; i < count + 200; i++)
        {
            var start = Stopwatch.GetTimestamp();
            s.Write(message);
            s.ReadExactly(message);
            if (i >= 200) latencies[i - 200] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        echo.Wait();
        return latencies;
    }
}
