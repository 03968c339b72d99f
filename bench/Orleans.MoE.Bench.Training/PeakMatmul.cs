using System.Diagnostics;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench.Training;

/// <summary>
/// The peak MFU is measured against: a (2048, 2048) x (2048, 2048) fp32 matmul at the benchmark's thread
/// count, the fastest of a few on each side; the peak is the faster side's figure.
/// </summary>
internal static class PeakMatmul
{
    public const int N = 2048;

    public sealed record Result(double CsharpGflops, double PyTorchGflops)
    {
        public double PeakFlops => 1e9 * Math.Max(CsharpGflops, PyTorchGflops);
    }

    public static Result Measure(PyTorchEagerProcess pytorch, int reps = 5)
    {
        using var scope = DisposeScope.Begin();
        var a = Tensor.Randn([N, N]);   // (N, N) fp32
        var b = Tensor.Randn([N, N]);   // (N, N) fp32
        var best = double.MaxValue;
        for (var i = 0; i < reps; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var product = a.MatMul(b);   // libtorch on the CPU returns when the product is done
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        Thread.Sleep(TrainingBenchmark.Settle);
        var pytorchBest = pytorch.MatmulSeconds(N, reps);
        return new Result(Gflops(best), Gflops(pytorchBest));
    }

    private static double Gflops(double seconds) => 2.0 * N * N * (double)N / seconds / 1e9;
}
