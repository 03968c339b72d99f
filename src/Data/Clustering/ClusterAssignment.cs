using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// The assignment step of k-means for points and centroids held as tensors: the nearest centroid of
/// every point, or every distance, computed by <see cref="LloydKernel"/> (euclidean: squared
/// distance; cosine, for unit vectors: 1 - cos), on <see cref="TorchRuntime.Threads"/> threads.
/// </summary>
public static class ClusterAssignment
{
    /// <summary>The nearest centroid of every point (N, d) among the centroids (K, d), and the distance to it.</summary>
    public static (long[] Assignments, float[] Distances) Nearest(Tensor points, Tensor centroids, KMeansMetric metric) =>
        Nearest(FeatureMatrix.From(points), CentroidsOf(centroids, points.Size(1)), metric, TorchRuntime.Threads);

    /// <summary>Distances from every point to every centroid, row-major (N, K).</summary>
    public static float[] DistanceMatrix(Tensor points, Tensor centroids, KMeansMetric metric) =>
        DistanceMatrix(FeatureMatrix.From(points), CentroidsOf(centroids, points.Size(1)), metric, TorchRuntime.Threads);

    internal static (long[] Assignments, float[] Distances) Nearest(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads)
    {
        var assignments = new long[points.Rows];
        var distances = new float[points.Rows];
        LloydKernel.Assign(points, centroids, metric, threads, assignments, distances, sums: null);
        return (assignments, distances);
    }

    internal static float[] DistanceMatrix(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads)
    {
        var result = new float[(long)points.Rows * centroids.Count];
        LloydKernel.DistanceMatrix(points, centroids, metric, threads, result);
        return result;
    }

    /// <summary>Centroids (K, d) for the kernel, checked against the points' dimension.</summary>
    internal static CentroidSet CentroidsOf(Tensor centroids, long columns)
    {
        var c = FeatureMatrix.From(centroids);
        if (c.Columns != columns)
            throw new ArgumentException($"centroids of {c.Columns} dimensions cannot be compared with points of {columns}", nameof(centroids));
        return new CentroidSet(c.Values, c.Rows, c.Columns);
    }

    /// <summary>
    /// Size-balanced assignment: (point, cluster) pairs are taken from the nearest up, and a pair is
    /// accepted while its cluster's load stays within (1 + slack) times an equal share of the total
    /// weight. A point that fits nowhere (a heavy one near the end) goes where the load stays lowest.
    /// </summary>
    public static long[] Balanced(float[] distances, int clusters, ReadOnlySpan<double> weights, double slack)
    {
        var n = weights.Length;
        if (distances.Length != (long)n * clusters)
            throw new ArgumentException($"{distances.Length} distances for {n} points and {clusters} clusters", nameof(distances));
        var total = 0.0;
        foreach (var w in weights) total += w;
        var capacity = total / clusters * (1 + slack);

        var order = new int[distances.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var keys = (float[])distances.Clone();
        Array.Sort(keys, order); // introsort is not stable: equal distances are ordered by pair index below
        for (int lo = 0, hi; lo < keys.Length; lo = hi)
        {
            hi = lo + 1;
            while (hi < keys.Length && keys[hi] == keys[lo]) hi++;
            if (hi - lo > 1) Array.Sort(order, lo, hi - lo);
        }

        var assignment = new long[n];
        Array.Fill(assignment, -1);
        var load = new double[clusters];
        var left = n;
        foreach (var pair in order)
        {
            if (left == 0) break;
            var i = pair / clusters;
            var c = pair % clusters;
            if (assignment[i] >= 0 || load[c] + weights[i] > capacity) continue;
            assignment[i] = c;
            load[c] += weights[i];
            left--;
        }
        for (var i = 0; i < n && left > 0; i++)
        {
            if (assignment[i] >= 0) continue;
            var best = 0;
            for (var c = 1; c < clusters; c++)
            {
                if (load[c] < load[best] || (load[c] == load[best] && distances[(long)i * clusters + c] < distances[(long)i * clusters + best]))
                    best = c;
            }
            assignment[i] = best;
            load[best] += weights[i];
            left--;
        }
        return assignment;
    }
}
