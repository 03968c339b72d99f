using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// k-means on a feature matrix held as a tensor (N, d): k-means++ seeding, Lloyd iterations
/// (assignment as matrix products, centroid update as an index-add) until the centroids move less
/// than the tolerance, several restarts keeping the lowest inertia. Euclidean or cosine (spherical:
/// points and centroids on the unit sphere). Deterministic for a seed.
/// <para>
/// An empty cluster is given the point that is farthest from its centroid. With
/// <see cref="KMeansOptions.BalanceSlack"/> the assignment is size-balanced (see
/// <see cref="ClusterAssignment.Balanced"/>), optionally by per-point weights such as token counts.
/// </para>
/// </summary>
public static class KMeans
{
    public static KMeansResult Fit(Tensor features, KMeansOptions options, double[]? weights = null)
    {
        if (features.Dim != 2) throw new ArgumentException($"features must be a matrix (N, d), not of shape [{string.Join(", ", features.Shape)}]", nameof(features));
        var n = features.Size(0);
        options.Validate(n);
        if (weights is not null && weights.Length != n) throw new ArgumentException($"{weights.Length} weights for {n} points", nameof(weights));
        weights ??= options.BalanceSlack is null ? null : Enumerable.Repeat(1.0, (int)n).ToArray();

        using var scope = DisposeScope.Begin();
        var points = Prepare(features, options.Metric); // (N, d) Float32, unit rows for cosine
        var threshold = options.Tolerance * TotalVariance(points);
        var squaredNorms = options.Metric == KMeansMetric.Euclidean ? ClusterAssignment.SquaredNorms(points) : null; // (N)

        KMeansResult? best = null;
        for (var restart = 0; restart < options.Restarts; restart++)
        {
            var random = new SeededRandom(SeededRandom.Derive(options.Seed, (ulong)restart));
            var run = Lloyd(points, squaredNorms, options, weights, threshold, random, restart);
            if (best is null || run.Inertia < best.Inertia)
            {
                best?.Dispose();
                best = run;
            }
            else
            {
                run.Dispose();
            }
        }
        return best!;
    }

    /// <summary>The nearest centroid of each point (for points not seen in fitting).</summary>
    public static long[] Predict(Tensor features, Tensor centroids, KMeansMetric metric)
    {
        using var scope = DisposeScope.Begin();
        return ClusterAssignment.Nearest(Prepare(features, metric), centroids, metric).Assignments;
    }

    /// <summary>Float32 points; for the cosine metric scaled to unit length (zero rows stay zero).</summary>
    internal static Tensor Prepare(Tensor features, KMeansMetric metric)
    {
        var points = features.To(ScalarType.Float32).Contiguous();
        return metric == KMeansMetric.Cosine ? NormalizeRows(points) : points;
    }

    internal static Tensor NormalizeRows(Tensor x) => x / (x * x).Sum(1, keepDim: true).Sqrt().Clamp(min: 1e-12); // (N, d)

    /// <summary>Sum over feature dimensions of their variance: the scale the tolerance is relative to.</summary>
    internal static double TotalVariance(Tensor points)
    {
        // Σ_j var(x_j) = E|x|² - |E x|², without an (N, d) temporary.
        using var scope = DisposeScope.Begin();
        var mean = points.Mean(0); // (d)
        return Math.Max(0, (points * points).Sum(1).Mean().Item() - (mean * mean).Sum().Item());
    }

    private static KMeansResult Lloyd(Tensor points, Tensor? squaredNorms, KMeansOptions options, double[]? weights, double threshold, SeededRandom random, int restart)
    {
        var k = options.Clusters;
        var centroids = points.IndexSelect(0, Tensor.FromArray(KMeansPlusPlus.ChooseCentres(points, squaredNorms, k, options.Metric, random))); // (K, d)
        long[] assignments = [];
        float[] distances = [];
        var iterations = 0;
        var converged = false;
        while (iterations < options.MaxIterations)
        {
            iterations++;
            Tensor updated;
            double shift;
            using (var step = DisposeScope.Begin())
            {
                (assignments, distances) = Assign(points, squaredNorms, centroids, options, weights);
                var next = Update(points, assignments, distances, centroids, options.Metric);
                shift = (next - centroids).Square().Sum().Item();
                updated = step.MoveToOuter(next);
            }
            centroids.Dispose();
            centroids = updated;
            if (shift <= threshold)
            {
                converged = true;
                break;
            }
        }
        (assignments, distances) = Assign(points, squaredNorms, centroids, options, weights);
        var inertia = 0.0;
        foreach (var d in distances) inertia += d;
        return new KMeansResult(assignments, centroids.DetachFromScope(), inertia, iterations, restart, converged);
    }

    private static (long[] Assignments, float[] Distances) Assign(Tensor points, Tensor? squaredNorms, Tensor centroids, KMeansOptions options, double[]? weights)
    {
        if (options.BalanceSlack is not { } slack) return ClusterAssignment.Nearest(points, squaredNorms, centroids, options.Metric, options.ChunkRows);
        var k = options.Clusters;
        var matrix = ClusterAssignment.DistanceMatrix(points, squaredNorms, centroids, options.Metric, options.ChunkRows);
        var assignments = ClusterAssignment.Balanced(matrix, k, weights, slack);
        var distances = new float[assignments.Length];
        for (var i = 0; i < assignments.Length; i++) distances[i] = matrix[(long)i * k + assignments[i]];
        return (assignments, distances);
    }

    /// <summary>New centroids: the mean of each cluster's points (unit length for cosine); an empty cluster takes the worst-served point.</summary>
    internal static Tensor Update(Tensor points, long[] assignments, float[] distances, Tensor previous, KMeansMetric metric)
    {
        var k = previous.Size(0);
        var index = Tensor.FromArray(assignments); // (N) Int64
        var sums = previous.ZerosLike().IndexAdd(0, index, points); // (K, d)
        var counts = index.BinCount(k).To(ScalarType.Float32); // (K)
        var centroids = sums / counts.Clamp(min: 1).Unsqueeze(1); // (K, d)

        var sizes = counts.ToArray<float>();
        var empty = Enumerable.Range(0, (int)k).Where(c => sizes[c] == 0).ToArray();
        if (empty.Length > 0)
        {
            var worst = Enumerable.Range(0, distances.Length).OrderByDescending(i => distances[i]).ThenBy(i => i).Take(empty.Length).Select(i => (long)i).ToArray();
            var replacements = points.IndexSelect(0, Tensor.FromArray(worst)); // (e, d)
            var rows = centroids.Split(1, 0).ToList();
            for (var e = 0; e < empty.Length; e++) rows[empty[e]] = replacements.Narrow(0, e, 1);
            centroids = Tensor.Cat(rows, 0);
        }
        return metric == KMeansMetric.Cosine ? NormalizeRows(centroids) : centroids;
    }
}
