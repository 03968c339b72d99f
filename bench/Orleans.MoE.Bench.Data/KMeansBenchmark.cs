using System.Diagnostics;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench.Data;

/// <summary>
/// Seconds per Lloyd iteration for N x d features and K clusters, from the difference between runs
/// of 1 and 1 + n iterations (so seeding is not counted). The reference measured in the same run is
/// the assignment step's matrix product alone, X (N, d) @ Cᵀ (d, K): the floor of an iteration.
/// </summary>
internal static class KMeansBenchmark
{
    public static void Run(int n = 100_000, int d = 256, int k = 16, int iterations = 20)
    {
        using var scope = DisposeScope.Begin();
        var generator = new Generator(1);
        // Gaussian noise without cluster structure, so that Lloyd keeps moving for every timed iteration.
        var points = Tensor.Randn([n, d], generator); // (N, d)
        var centres = Tensor.Randn([k, d], generator); // (K, d)
        Console.WriteLine($"k-means: {n} x {d} features, {k} clusters, {TorchRuntime.Threads} libtorch threads");

        var centresT = centres.T.Contiguous(); // (d, K)
        var gemm = Time(() => points.Mm(centresT).Dispose(), repeats: 20); // libtorch on the CPU returns when done

        foreach (var metric in new[] { KMeansMetric.Euclidean, KMeansMetric.Cosine })
        {
            var options = new KMeansOptions { Clusters = k, Metric = metric, Tolerance = 0, Seed = 1 };
            KMeans.Fit(points, options with { MaxIterations = 1 }).Dispose(); // warm up
            var one = Time(() => KMeans.Fit(points, options with { MaxIterations = 1 }).Dispose(), repeats: 5);
            var ran = 0;
            var many = Time(() =>
            {
                using var result = KMeans.Fit(points, options with { MaxIterations = 1 + iterations });
                ran = result.Iterations;
            }, repeats: 5);
            if (ran != 1 + iterations) throw new InvalidOperationException($"k-means stopped after {ran} iterations; the timing needs {1 + iterations}");
            var perIteration = (many - one) / iterations;
            Console.WriteLine($"  {metric,-9} Lloyd iteration: {perIteration:F4} s  = {perIteration / gemm:F1} x the assignment matmul ({gemm * 1e3:F1} ms); k-means++ seeding and final assignment {one - perIteration:F3} s");
        }

        var batches = Time(() => MiniBatchKMeans.Fit(() => points.Split(8192), new KMeansOptions { Clusters = k, Tolerance = 0, Seed = 1 }, maxPasses: 1).Dispose(), repeats: 3);
        Console.WriteLine($"  mini-batch (8192 rows), one pass + final assignment: {batches:F3} s");
    }

    /// <summary>The fastest of several runs, in seconds.</summary>
    private static double Time(Action action, int repeats)
    {
        var best = double.MaxValue;
        for (var r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
