using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Orleans.MoE.Bench.Training;

/// <summary>
/// Wall and process CPU seconds (all threads: libtorch's, OpenBLAS's and the runtime's) per phase of a
/// training step, summed over the steps it times. CPU time shows the work a side does even when other
/// processes take the cores; wall time is what throughput is.
/// </summary>
internal sealed class PhaseClock
{
    public static readonly string[] Phases = ["forward", "backward", "optimizer", "balancing"];

    private readonly double[] _wall = new double[Phases.Length];
    private readonly double[] _cpu = new double[Phases.Length];
    private (long Wall, double Cpu) _last;

    public PhaseClock() => Restart();

    public void Restart() => _last = (Stopwatch.GetTimestamp(), ProcessCpuSeconds());

    /// <summary>Ends <paramref name="phase"/>: the time since the previous mark (or restart) is added to it.</summary>
    public void Mark(string phase)
    {
        var now = (Wall: Stopwatch.GetTimestamp(), Cpu: ProcessCpuSeconds());
        var i = Array.IndexOf(Phases, phase);
        _wall[i] += Stopwatch.GetElapsedTime(_last.Wall, now.Wall).TotalSeconds;
        _cpu[i] += now.Cpu - _last.Cpu;
        _last = now;
    }

    public IReadOnlyList<double> WallSeconds => _wall;

    public IReadOnlyList<double> CpuSeconds => _cpu;

    private const int ClockProcessCpuTimeId = 2; // CLOCK_PROCESS_CPUTIME_ID on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>CPU seconds used by every thread of this process so far.</summary>
    public static unsafe double ProcessCpuSeconds()
    {
        TimeSpec ts;
        if (clock_gettime(ClockProcessCpuTimeId, &ts) != 0) return double.NaN;
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [DllImport("libc")]
    private static extern unsafe int clock_gettime(int clockId, TimeSpec* timeSpec);
}
