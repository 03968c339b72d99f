using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// The assignment step of k-means, as matrix products on the tensor engine: for a chunk of points
/// X (n, d) and centroids C (K, d), S = X Cᵀ (n, K); the euclidean distance is |x|² - 2 S + |c|²
/// and the cosine distance (unit vectors) 1 - S.
/// </summary>
public static class ClusterAssignment
{
    /// <summary>The nearest centroid of every point and the distance to it.</summary>
    public static (long[] Assignments, float[] Distances) Nearest(Tensor points, Tensor centroids, KMeansMetric metric, int chunkRows = 65536) =>
        Nearest(points, null, centroids, metric, chunkRows);

    /// <summary>Squared lengths of the rows (N): computed once and reused by every euclidean assignment.</summary>
    public static Tensor SquaredNorms(Tensor points) => (points * points).Sum(1);

    /// <param name="squaredNorms">The points' <see cref="SquaredNorms"/> when already known (euclidean only).</param>
    public static (long[] Assignments, float[] Distances) Nearest(Tensor points, Tensor? squaredNorms, Tensor centroids, KMeansMetric metric, int chunkRows = 65536)
    {
        var n = points.Size(0);
        var assignments = new long[n];
        var distances = new float[n];
        ForEachChunk(points, squaredNorms, centroids, chunkRows, c =>
        {
            Tensor best, index, distance;
            if (metric == KMeansMetric.Euclidean)
            {
                (best, index) = (c.Products * 2.0 - c.CentroidSquares).Max(1); // argmax of 2 x·c - |c|² is argmin of |x - c|²
                distance = (c.PointSquares() - best).Clamp(min: 0); // (n)
            }
            else
            {
                (best, index) = c.Products.Max(1);
                distance = (1.0 - best).Clamp(min: 0);
            }
            index.CopyTo<long>(assignments.AsSpan((int)c.Start, (int)c.Rows));
            distance.CopyTo<float>(distances.AsSpan((int)c.Start, (int)c.Rows));
        });
        return (assignments, distances);
    }

    /// <summary>Distances from every point to every centroid, row-major (N, K).</summary>
    public static float[] DistanceMatrix(Tensor points, Tensor centroids, KMeansMetric metric, int chunkRows = 65536) =>
        DistanceMatrix(points, null, centroids, metric, chunkRows);

    public static float[] DistanceMatrix(Tensor points, Tensor? squaredNorms, Tensor centroids, KMeansMetric metric, int chunkRows = 65536)
    {
        var n = points.Size(0);
        var k = centroids.Size(0);
        var result = new float[n * k];
        ForEachChunk(points, squaredNorms, centroids, chunkRows, c =>
        {
            var d = metric == KMeansMetric.Euclidean
                ? (c.PointSquares().Unsqueeze(1) - c.Products * 2.0 + c.CentroidSquares).Clamp(min: 0) // (n, K)
                : (1.0 - c.Products).Clamp(min: 0);
            d.Contiguous().CopyTo<float>(result.AsSpan((int)(c.Start * k), (int)(c.Rows * k)));
        });
        return result;
    }

    /// <summary>
    /// Calls <paramref name="body"/> for each block of <paramref name="chunkRows"/> points, inside its
    /// own dispose scope, with the block's products S = X Cᵀ: the loop both assignment forms share.
    /// </summary>
    private static void ForEachChunk(Tensor points, Tensor? squaredNorms, Tensor centroids, int chunkRows, Action<Chunk> body)
    {
        var n = points.Size(0);
        using var scope = DisposeScope.Begin();
        var cT = centroids.T.Contiguous(); // (d, K)
        var cSquared = (centroids * centroids).Sum(1); // (K)
        for (long start = 0; start < n; start += chunkRows)
        {
            using var chunkScope = DisposeScope.Begin();
            var rows = Math.Min(chunkRows, n - start);
            var x = points.Narrow(0, start, rows); // (n, d)
            var first = start;
            body(new Chunk(start, rows, x.Mm(cT), cSquared, () => squaredNorms?.Narrow(0, first, rows) ?? (x * x).Sum(1)));
        }
    }

    /// <summary>
    /// One block of points: rows [Start, Start + Rows), Products = X Cᵀ (n, K), the centroids' squared
    /// lengths (K), and the points' squared lengths (n), computed only when asked for.
    /// </summary>
    private readonly record struct Chunk(long Start, long Rows, Tensor Products, Tensor CentroidSquares, Func<Tensor> PointSquares);

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
