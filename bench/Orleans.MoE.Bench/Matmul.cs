using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench;

/// <summary>(1024, 1024) x (1024, 1024) fp32 matmul through the binding, a new result per call.</summary>
internal static class Matmul
{
    public const long N = 1024;

    /// <summary>Longer than OpenBLAS's spin-wait after a call (2^28 cycles: 0.12 s at 2.25 GHz).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(0.2);

    public sealed record Result(int CsharpThreads, double CsharpGflops, int CppThreads, double CppGflops);

    public static double Gflops(double secondsPerMatmul) => 2.0 * N * N * N / secondsPerMatmul / 1e9;

    public static Result Measure(BenchSettings s, NativeReference reference)
    {
        TorchRuntime.Threads = s.MatmulThreads;
        var cppThreads = reference.SetThreads(s.MatmulThreads);
        using var x = Tensor.Randn([N, N]); // (N, N) fp32
        using var y = Tensor.Randn([N, N]); // (N, N) fp32
        ITimedSide[] sides =
        [
            reference.Side("cpp", "matmul1024"),
            new LocalSide(n =>
            {
                for (var i = 0; i < n; i++)
                {
                    using var r = x.MatMul(y); // (N, N)
                }
            }),
        ];
        var seconds = Harness.MedianSecondsPerIteration(sides, s.MatmulIters, s.MatmulReps, Clock.Wall, Settle);
        return new Result(TorchRuntime.Threads, Gflops(seconds[1]), cppThreads, Gflops(seconds[0]));
    }
}
