using Orleans.MoE.Data.Clustering.Sharding;
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
/// <para>
/// Sharded (<see cref="Fit(Tensor, KMeansOptions, IShardExchange, double[], Tensor)"/>), each shard
/// holds a contiguous range of the points and runs this same algorithm with the others: its result
/// equals one process's on all the points, bit for bit (see <see cref="ShardedPoints"/>).
/// </para>
/// </summary>
public static class KMeans
{
    /// <param name="weights">Per-point weights of the size-balanced assignment (default: 1 each).</param>
    /// <param name="initialCentroids">(K, d) centroids to start from instead of k-means++ (then with one restart).</param>
    public static KMeansResult Fit(Tensor features, KMeansOptions options, double[]? weights = null, Tensor? initialCentroids = null) =>
        Fit(features, options, SingleShard.Instance, weights, initialCentroids);

    /// <summary>
    /// k-means over the points of every shard, this shard holding <paramref name="features"/> (its
    /// rows, which follow the previous shard's; every shard but the last holds whole blocks of
    /// <see cref="LloydKernel.BlockRows"/>, see <see cref="ShardRanges"/>). Every shard calls it
    /// with the same options; each gets the assignments of its own points, and the same centroids,
    /// inertia and iterations as every other shard and as one process given all the points.
    /// </summary>
    /// <param name="weights">This shard's points' weights for the size-balanced assignment.</param>
    public static KMeansResult Fit(Tensor features, KMeansOptions options, IShardExchange exchange, double[]? weights = null, Tensor? initialCentroids = null)
    {
        if (features.Dim != 2) throw new ArgumentException($"features must be a matrix (N, d), not of shape [{string.Join(", ", features.Shape)}]", nameof(features));
        var points = new ShardedPoints(Points(features, options.Metric), exchange);
        options.Validate(points.TotalRows);
        var n = points.Local.Rows;
        if (weights is not null && weights.Length != n) throw new ArgumentException($"{weights.Length} weights for {n} points", nameof(weights));
        if (initialCentroids is not null)
        {
            if (initialCentroids.Dim != 2 || initialCentroids.Size(0) != options.Clusters || initialCentroids.Size(1) != features.Size(1))
                throw new ArgumentException(
                    $"initial centroids of shape [{string.Join(", ", initialCentroids.Shape)}] do not fit {options.Clusters} clusters of {features.Size(1)}-dimensional features", nameof(initialCentroids));
            if (options.Restarts != 1)
                throw new ArgumentException($"{options.Restarts} restarts from the same initial centroids would repeat one run; use 1 restart with initial centroids", nameof(options));
        }
        // The size-balanced assignment is global: it needs every point's weight.
        var allWeights = options.BalanceSlack is null ? null : points.Concat(weights ?? Enumerable.Repeat(1.0, n).ToArray());

        var threshold = options.Tolerance * points.MeanVariance();
        var threads = TorchRuntime.Threads;
        var start = initialCentroids is null ? null : Points(initialCentroids, options.Metric).Values;

        LloydRun? best = null;
        for (var restart = 0; restart < options.Restarts; restart++)
        {
            var centroids = start ?? points.GatherRows(KMeansPlusPlus.ChooseCentres(points, options.Clusters, options.Metric,
                new SeededRandom(SeededRandom.Derive(options.Seed, (ulong)restart)), threads));
            var run = Lloyd(points, centroids, options, allWeights, threshold, threads) with { Restart = restart };
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

    /// <summary>A restart's outcome: this shard's assignments, and the centroids and inertia of all points.</summary>
    private sealed record LloydRun(long[] Assignments, float[] Centroids, double Inertia, int Iterations, bool Converged, int Restart = 0);

    private static LloydRun Lloyd(ShardedPoints points, float[] centroids, KMeansOptions options, double[]? allWeights, double threshold, int threads)
    {
        var (k, d) = (options.Clusters, points.Columns);
        var assignments = new long[points.Local.Rows];
        var distances = new float[points.Local.Rows];
        var iterations = 0;
        var converged = false;
        while (iterations < options.MaxIterations)
        {
            iterations++;
            var partials = new BlockPartials(k, d, points.Local.Rows);
            Assign(points, new CentroidSet(centroids, k, d), options, allWeights, threads, assignments, distances, partials);
            var next = Update(points, points.Combine(partials), distances, options.Metric);
            var shift = 0.0;
            for (var i = 0; i < next.Length; i++) shift += (double)(next[i] - centroids[i]) * (next[i] - centroids[i]);
            centroids = next;
            if (shift <= threshold)
            {
                converged = true;
                break;
            }
        }
        Assign(points, new CentroidSet(centroids, k, d), options, allWeights, threads, assignments, distances, partials: null);
        var inertia = 0.0;
        foreach (var distance in points.Exchange.Shards == 1 ? distances : points.Concat(distances)) inertia += distance;
        return new LloydRun(assignments, centroids, inertia, iterations, converged);
    }

    /// <summary>
    /// Fills this shard's assignments and distances (nearest, or size-balanced over all points), and
    /// each block's cluster sums and counts when <paramref name="partials"/> is given.
    /// </summary>
    private static void Assign(ShardedPoints points, CentroidSet centroids, KMeansOptions options, double[]? allWeights, int threads,
        long[] assignments, float[] distances, BlockPartials? partials)
    {
        var local = points.Local;
        if (options.BalanceSlack is not { } slack)
        {
            if (partials is null) LloydKernel.Assign(local, centroids, options.Metric, threads, assignments, distances, sums: null);
            else LloydKernel.Assign(local, centroids, options.Metric, threads, assignments, distances, partials);
            return;
        }
        var k = centroids.Count;
        var matrix = points.Concat(ClusterAssignment.DistanceMatrix(local, centroids, options.Metric, threads)); // (N, K) of every point
        var all = ClusterAssignment.Balanced(matrix, k, allWeights, slack);
        for (var i = 0; i < local.Rows; i++)
        {
            var global = points.First + i;
            assignments[i] = all[global];
            distances[i] = matrix[global * k + assignments[i]];
        }
        if (partials is not null) LloydKernel.Sum(local, assignments, threads, partials);
    }

    /// <summary>New centroids (K, d): the mean of each cluster's points (unit length for cosine); an empty cluster takes the worst-served point.</summary>
    private static float[] Update(ShardedPoints points, ClusterSums sums, float[] distances, KMeansMetric metric)
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
            // Every shard sees the same counts, so all of them take this branch together.
            var all = points.Exchange.Shards == 1 ? distances : points.Concat(distances);
            var worst = Enumerable.Range(0, all.Length).OrderByDescending(i => all[i]).ThenBy(i => i).Take(empty.Count).Select(i => (long)i).ToArray();
            var rows = points.GatherRows(worst);
            for (var e = 0; e < empty.Count; e++) rows.AsSpan(e * d, d).CopyTo(centroids.AsSpan(empty[e] * d, d));
        }
        if (metric == KMeansMetric.Cosine) NormalizeRows(centroids, d);
        return centroids;
    }
}
