using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Orleans.MoE.Bench;

/// <summary>Wall time and the calling thread's CPU time of one timed run, in seconds.</summary>
internal readonly record struct Timing(double WallSeconds, double CpuSeconds);

/// <summary>Which clock a figure is read from.</summary>
internal enum Clock
{
    /// <summary>Elapsed time: right for multi-threaded work (matmul) on an otherwise idle machine.</summary>
    Wall,

    /// <summary>
    /// CPU time of the measuring thread: for single-threaded loops it equals wall time on an idle
    /// machine, and it does not grow while other processes hold the core, so per-op costs stay
    /// comparable on a busy one.
    /// </summary>
    ThreadCpu,
}

/// <summary>Something timed by the harness: a loop in this process, or one run by the C++ reference.</summary>
internal interface ITimedSide
{
    /// <summary>Runs the body until <paramref name="duration"/> has passed (JIT tiering, caches, allocator pools).</summary>
    void Warm(TimeSpan duration);

    /// <summary>Times <paramref name="iters"/> iterations of the body.</summary>
    Timing Run(int iters);
}

/// <summary>A loop in this process, timed on the calling thread; <c>body(n)</c> runs n iterations.</summary>
internal sealed class LocalSide(Action<int> body) : ITimedSide
{
    public void Warm(TimeSpan duration)
    {
        var watch = Stopwatch.StartNew();
        do body(1); while (watch.Elapsed < duration);
    }

    public Timing Run(int iters)
    {
        var cpu = ThreadCpuSeconds();
        var start = Stopwatch.GetTimestamp();
        body(iters);
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Timing(wall, ThreadCpuSeconds() - cpu);
    }

    private const int ClockThreadCpuTimeId = 3; // CLOCK_THREAD_CPUTIME_ID on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static unsafe double ThreadCpuSeconds()
    {
        TimeSpec ts;
        if (clock_gettime(ClockThreadCpuTimeId, &ts) != 0) return double.NaN;
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [DllImport("libc")]
    private static extern unsafe int clock_gettime(int clockId, TimeSpec* timeSpec);
}

/// <summary>
/// The timing loop behind every figure: warm each side up, then time <c>reps</c> repetitions of
/// <c>iters</c> iterations, alternating between the sides within each repetition (rotating which
/// goes first), and keep each side's median seconds per iteration. Short, alternating repetitions
/// mean the C++ reference and the binding see the same background load.
/// </summary>
internal static class Harness
{
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(0.25);

    /// <param name="settle">
    /// A pause before each timed run. Multi-threaded BLAS needs it: OpenBLAS's worker threads keep
    /// spinning for a while after each call, and on a small machine the spinning threads of the side
    /// that just ran would take cores from the side that runs next.
    /// </param>
    public static double[] MedianSecondsPerIteration(IReadOnlyList<ITimedSide> sides, int iters, int reps, Clock clock,
        TimeSpan settle = default)
    {
        foreach (var side in sides) side.Warm(Warmup);
        var samples = new double[sides.Count][];
        for (var s = 0; s < sides.Count; s++) samples[s] = new double[reps];
        for (var r = 0; r < reps; r++)
        {
            for (var k = 0; k < sides.Count; k++)
            {
                var s = (r + k) % sides.Count;
                if (settle > TimeSpan.Zero) Thread.Sleep(settle);
                var t = sides[s].Run(iters);
                samples[s][r] = (clock == Clock.Wall ? t.WallSeconds : t.CpuSeconds) / iters;
            }
        }
        return samples.Select(Median).ToArray();
    }

    /// <summary>Median nanoseconds (thread CPU time) per iteration of one loop in this process.</summary>
    public static double MedianNanoseconds(Action<int> body, int iters, int reps) =>
        MedianSecondsPerIteration([new LocalSide(body)], iters, reps, Clock.ThreadCpu)[0] * 1e9;

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
