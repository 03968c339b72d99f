using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// k-means on a feature matrix (N, d): k-means++ seeding (or the caller's initial centroids, like
/// scikit-learn's <c>init=array</c>), Lloyd iterations until the centroids move at most the tolerance
/// (see <see cref="KMeansOptions.Tolerance"/>), several restarts keeping the lowest inertia. Euclidean
/// or cosine (spherical: points and centroids on the unit sphere). Deterministic for a seed, whatever
/// the thread count.
/// <para>
/// Each iteration is one pass of <see cref="LloydKernel"/> over the points (assignment and centroid
/// sums together, on <see cref="TorchRuntime.Threads"/> threads). An empty cluster is given the point
/// that is farthest from its centroid. With <see cref="KMeansOptions.BalanceSlack"/> the assignment
/// is size-balanced (see <see cref="ClusterAssignment.Balanced"/>), optionally by per-point weights
/// such as token counts.
/// </para>
/// </summary>
public static class KMeans
{
    /// <param name="weights">Per-point weights of the size-balanced assignment (default: 1 each).</param>
    /// <param name="initialCentroids">(K, d) centroids to start from instead of k-means++ (then with one restart).</param>
    public static KMeansResult Fit(Tensor features, KMeansOptions options, double[]? weights = null, Tensor? initialCentroids = null)
    {
        if (features.Dim != 2) throw new ArgumentException($"features must be a matrix (N, d), not of shape [{string.Join(", ", features.Shape)}]", nameof(features));
        var n = features.Size(0);
        options.Validate(n);
        if (weights is not null && weights.Length != n) throw new ArgumentException($"{weights.Length} weights for {n} points", nameof(weights));
        if (initialCentroids is not null)
        {
            if (initialCentroids.Dim != 2 || initialCentroids.Size(0) != options.Clusters || initialCentroids.Size(1) != features.Size(1))
                throw new ArgumentException(
                    $"initial centroids of shape [{string.Join(", ", initialCentroids.Shape)}] do not fit {options.Clusters} clusters of {features.Size(1)}-dimensional features", nameof(initialCentroids));
            if (options.Restarts != 1)
                throw new ArgumentException($"{options.Restarts} restarts from the same initial centroids would repeat one run; use 1 restart with initial centroids", nameof(options));
        }
        weights ??= options.BalanceSlack is null ? null : Enumerable.Repeat(1.0, (int)n).ToArray();

        var points = Points(features, options.Metric);
        var threshold = options.Tolerance * points.MeanVariance();
        var threads = TorchRuntime.Threads;
        var start = initialCentroids is null ? null : Points(initialCentroids, options.Metric).Values;

        LloydRun? best = null;
        for (var restart = 0; restart < options.Restarts; restart++)
        {
            var centroids = start ?? points.Gather(KMeansPlusPlus.ChooseCentres(points, options.Clusters, options.Metric,
                new SeededRandom(SeededRandom.Derive(options.Seed, (ulong)restart)), threads));
            var run = Lloyd(points, centroids, options, weights, threshold, threads) with { Restart = restart };
            if (best is null || run.Inertia < best.Inertia) best = run;
        }
        return new KMeansResult(best!.Assignments, Tensor.FromArray(best.Centroids, options.Clusters, points.Columns).DetachFromScope(),
            best.Inertia, best.Iterations, best.Restart, best.Converged);
    }

    /// <summary>The nearest centroid of each point (for points not seen in fitting).</summary>
    public static long[] Predict(Tensor features, Tensor centroids, KMeansMetric metric)
    {
        var points = Points(features, metric);
        return ClusterAssignment.Nearest(points, ClusterAssignment.CentroidsOf(centroids, points.Columns), metric, TorchRuntime.Threads).Assignments;
    }

    /// <summary>Float32 points; for the cosine metric scaled to unit length (zero rows stay zero).</summary>
    internal static FeatureMatrix Points(Tensor features, KMeansMetric metric)
    {
        var points = FeatureMatrix.From(features);
        if (metric == KMeansMetric.Cosine) NormalizeRows(points.Values, points.Columns);
        return points;
    }

    /// <summary>Scales every row of a row-major matrix to unit length (rows shorter than 1e-12 are divided by 1e-12).</summary>
    internal static void NormalizeRows(float[] values, int columns)
    {
        for (var start = 0; start < values.Length; start += columns)
        {
            var row = values.AsSpan(start, columns);
            var norm = (float)Math.Max(Math.Sqrt(LloydKernel.Dot(row, row)), 1e-12);
            for (var j = 0; j < row.Length; j++) row[j] /= norm;
        }
    }

    private sealed record LloydRun(long[] Assignments, float[] Centroids, double Inertia, int Iterations, bool Converged, int Restart = 0);

    private static LloydRun Lloyd(FeatureMatrix points, float[] centroids, KMeansOptions options, double[]? weights, double threshold, int threads)
    {
        var (k, d) = (options.Clusters, points.Columns);
        var sums = new ClusterSums(k, d);
        var assignments = new long[points.Rows];
        var distances = new float[points.Rows];
        var iterations = 0;
        var converged = false;
        while (iterations < options.MaxIterations)
        {
            iterations++;
            Assign(points, new CentroidSet(centroids, k, d), options, weights, threads, assignments, distances, sums);
            var next = Update(points, sums, distances, options.Metric);
            var shift = 0.0;
            for (var i = 0; i < next.Length; i++) shift += (double)(next[i] - centroids[i]) * (next[i] - centroids[i]);
            centroids = next;
            if (shift <= threshold)
            {
                converged = true;
                break;
            }
        }
        Assign(points, new CentroidSet(centroids, k, d), options, weights, threads, assignments, distances, sums: null);
        var inertia = 0.0;
        foreach (var distance in distances) inertia += distance;
        return new LloydRun(assignments, centroids, inertia, iterations, converged);
    }

    /// <summary>
    /// Fills the assignments and distances (nearest, or size-balanced), and each cluster's sum and
    /// count when <paramref name="sums"/> is given.
    /// </summary>
    private static void Assign(FeatureMatrix points, CentroidSet centroids, KMeansOptions options, double[]? weights, int threads,
        long[] assignments, float[] distances, ClusterSums? sums)
    {
        if (options.BalanceSlack is not { } slack)
        {
            LloydKernel.Assign(points, centroids, options.Metric, threads, assignments, distances, sums);
            return;
        }
        var k = centroids.Count;
        var matrix = ClusterAssignment.DistanceMatrix(points, centroids, options.Metric, threads);
        ClusterAssignment.Balanced(matrix, k, weights, slack).CopyTo(assignments, 0);
        for (var i = 0; i < points.Rows; i++) distances[i] = matrix[(long)i * k + assignments[i]];
        if (sums is not null) LloydKernel.Sum(points, assignments, threads, sums);
    }

    /// <summary>New centroids (K, d): the mean of each cluster's points (unit length for cosine); an empty cluster takes the worst-served point.</summary>
    private static float[] Update(FeatureMatrix points, ClusterSums sums, float[] distances, KMeansMetric metric)
    {
        var (k, d) = (sums.Clusters, points.Columns);
        var centroids = new float[k * d];
        var empty = new List<int>();
        for (var c = 0; c < k; c++)
        {
            if (sums.Counts[c] == 0)
            {
                empty.Add(c);
                continue;
            }
            for (var j = 0; j < d; j++) centroids[c * d + j] = (float)(sums.Totals[c * d + j] / sums.Counts[c]);
        }
        if (empty.Count > 0)
        {
            var worst = Enumerable.Range(0, distances.Length).OrderByDescending(i => distances[i]).ThenBy(i => i).Take(empty.Count).ToArray();
            for (var e = 0; e < empty.Count; e++) points.Row(worst[e]).CopyTo(centroids.AsSpan(empty[e] * d, d));
        }
        if (metric == KMeansMetric.Cosine) NormalizeRows(centroids, d);
        return centroids;
    }
}
