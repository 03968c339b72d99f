using System.Diagnostics;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>A grain that answers at once, pinned to the silo its key names.</summary>
public interface IPingGrain : IGrainWithStringKey
{
    Task<int> PingAsync(int value);
}

/// <summary>Runs on one silo and times calls from there to a ping grain on any silo.</summary>
public interface IProbeGrain : IGrainWithStringKey
{
    /// <summary>Latencies in microseconds of <paramref name="calls"/> sequential calls to the ping grain on <paramref name="targetSilo"/>, after a warm-up.</summary>
    Task<double[]> TimeCallsAsync(string targetSilo, int calls);
}

[SiloPinnedPlacement]
public sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);
}

[SiloPinnedPlacement]
public sealed class ProbeGrain : Grain, IProbeGrain
{
    public async Task<double[]> TimeCallsAsync(string targetSilo, int calls)
    {
        var ping = GrainFactory.GetGrain<IPingGrain>(targetSilo);
        for (var i = 0; i < 200; i++) await ping.PingAsync(i);   // warm-up: activation, connections, JIT
        var latencies = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await ping.PingAsync(i);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        return latencies;
    }
}
