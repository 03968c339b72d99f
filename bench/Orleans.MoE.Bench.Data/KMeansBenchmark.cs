using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench.Data;

/// <summary>
/// Seconds per Lloyd iteration, from the difference between fits of 1 and 1 + n iterations from the
/// same starting centroids (so that seeding, input checks and the final assignment are not counted):
/// <list type="number">
/// <item>against scikit-learn (Debian's python3-sklearn, bench/python/sklearn_kmeans.py) on the same
/// features and starts, at 1 and 2 threads, the two sides alternating; the target is ours at or below
/// scikit-learn's time at 2 threads;</item>
/// <item>a larger case against the floor of an iteration, the assignment's matrix product alone,
/// X (N, d) @ Cᵀ (d, K) on libtorch.</item>
/// </list>
/// The features are Gaussian noise without cluster structure, so that Lloyd keeps moving for every
/// timed iteration (both sides check that they ran all of them).
/// </summary>
internal static class KMeansBenchmark
{
    public static void Run(string python = "/usr/bin/python3", int iterations = 20)
    {
        AgainstScikitLearn(python, n: 11_234, d: 256, k: 6, iterations);
        AgainstMatmul(n: 100_000, d: 256, k: 16, iterations);
    }

    private static void AgainstScikitLearn(string python, int n, int d, int k, int iterations)
    {
        using var scope = DisposeScope.Begin();
        var points = Tensor.Randn([n, d], new Generator(1)); // (N, d)
        var starts = points.Narrow(0, 0, k).Contiguous(); // (K, d): the first K points
        var directory = Directory.CreateTempSubdirectory("moe-bench-kmeans-").FullName;
        try
        {
            var featuresFile = Path.Combine(directory, "features.f32");
            var startsFile = Path.Combine(directory, "starts.f32");
            File.WriteAllBytes(featuresFile, MemoryMarshal.AsBytes(points.ToArray<float>().AsSpan()).ToArray());
            File.WriteAllBytes(startsFile, MemoryMarshal.AsBytes(starts.ToArray<float>().AsSpan()).ToArray());
            var script = Path.Combine(RepositoryRoot(), "bench", "python", "sklearn_kmeans.py");
            Console.WriteLine($"k-means against scikit-learn: {n} x {d} features, {k} clusters, euclidean, the same {k} starting centroids, {iterations} timed iterations");

            var initialThreads = TorchRuntime.Threads;
            foreach (var threads in new[] { 1, 2 })
            {
                TorchRuntime.Threads = threads;
                var options = new KMeansOptions { Clusters = k, Tolerance = 0, Seed = 1 };
                var ours = PerIteration(points, options, iterations, starts);
                var (theirs, ran, version) = ScikitLearn(python, script, featuresFile, startsFile, n, d, k, iterations, threads);
                ours = Math.Min(ours, PerIteration(points, options, iterations, starts)); // before and after, for a fair share of the machine's noise
                if (ran != 1 + iterations) throw new InvalidOperationException($"scikit-learn stopped after {ran} iterations; the timing needs {1 + iterations}");
                Console.WriteLine($"  {threads} thread{(threads == 1 ? " " : "s")}: ours {ours * 1e3:F3} ms, scikit-learn {version} {theirs * 1e3:F3} ms per Lloyd iteration (ours / theirs {ours / theirs:F2})");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT name=kmeans_lloyd_iteration_ms_{threads}t csharp={ours * 1e3:F3} sklearn={theirs * 1e3:F3} ratio={ours / theirs:F3} target=ratio<=1.0{(threads == 2 ? $" met={(ours <= theirs ? "yes" : "no")}" : "")}"));
            }
            TorchRuntime.Threads = initialThreads;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void AgainstMatmul(int n, int d, int k, int iterations)
    {
        using var scope = DisposeScope.Begin();
        var generator = new Generator(1);
        var points = Tensor.Randn([n, d], generator); // (N, d)
        var centres = Tensor.Randn([k, d], generator); // (K, d)
        Console.WriteLine($"k-means: {n} x {d} features, {k} clusters, {TorchRuntime.Threads} threads");

        var centresT = centres.T.Contiguous(); // (d, K)
        var gemm = Time(() => points.Mm(centresT).Dispose(), repeats: 20); // libtorch on the CPU returns when done
        foreach (var metric in new[] { KMeansMetric.Euclidean, KMeansMetric.Cosine })
        {
            var options = new KMeansOptions { Clusters = k, Metric = metric, Tolerance = 0, Seed = 1 };
            var perIteration = PerIteration(points, options, iterations, initialCentroids: null);
            Console.WriteLine($"  {metric,-9} Lloyd iteration: {perIteration:F4} s  = {perIteration / gemm:F1} x the assignment matmul ({gemm * 1e3:F1} ms)");
        }

        var batches = Time(() => MiniBatchKMeans.Fit(() => points.Split(8192), new KMeansOptions { Clusters = k, Tolerance = 0, Seed = 1 }, maxPasses: 1).Dispose(), repeats: 3);
        Console.WriteLine($"  mini-batch (8192 rows), one pass + final assignment: {batches:F3} s");
    }

    /// <summary>(fastest fit of 1 + n iterations - fastest fit of 1) / n, checking that every iteration ran.</summary>
    private static double PerIteration(Tensor points, KMeansOptions options, int iterations, Tensor? initialCentroids)
    {
        KMeans.Fit(points, options with { MaxIterations = 1 }, initialCentroids: initialCentroids).Dispose(); // warm up
        var one = Time(() => KMeans.Fit(points, options with { MaxIterations = 1 }, initialCentroids: initialCentroids).Dispose(), repeats: 5);
        var ran = 0;
        var many = Time(() =>
        {
            using var result = KMeans.Fit(points, options with { MaxIterations = 1 + iterations }, initialCentroids: initialCentroids);
            ran = result.Iterations;
        }, repeats: 5);
        if (ran != 1 + iterations) throw new InvalidOperationException($"k-means stopped after {ran} iterations; the timing needs {1 + iterations}");
        return (many - one) / iterations;
    }

    /// <summary>Runs the scikit-learn side once; returns its seconds per iteration, the iterations of its long fit and its version.</summary>
    private static (double Seconds, int Iterations, string Version) ScikitLearn(string python, string script, string features, string starts,
        int n, int d, int k, int iterations, int threads)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new object[] { script, features, starts, n, d, k, iterations, threads, 5 }) start.ArgumentList.Add(Convert.ToString(a, CultureInfo.InvariantCulture)!);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {python} ({e.Message}); install Debian's python3-sklearn (`make bench-deps`)", e);
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            var fields = output.Split(' ');
            if (process.ExitCode != 0 || fields.Length < 5 || fields[0] != "ok")
                throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}): {output} {error.Result.Trim()}; is python3-sklearn installed (`make bench-deps`)?");
            return (double.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture), fields[4]);
        }
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "bench", "python", "sklearn_kmeans.py"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("bench/python/sklearn_kmeans.py was not found above the current folder or the benchmark's folder; run the benchmark from the repository (e.g. `make bench`).");
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
