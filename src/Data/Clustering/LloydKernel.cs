using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// The assignment step of k-means (and the centroid sums of the update step) as one pass over the
/// points, in blocks of <see cref="BlockRows"/> rows that stay in cache: the dot products of a block
/// with every centroid (2 rows x 4 centroids per step, 8 float lanes with fused multiply-adds), the
/// nearest centroid of each row, and the row added to its cluster's sum. Blocks run on up to
/// <c>threads</c> threads.
/// <para>
/// Deterministic, also across thread counts and machines: a dot product is always summed in the
/// same order (8 lanes, fused multiply-add, then the lanes pairwise, then the tail), each block sums
/// its rows into its own partial, and the partials are added in block order.
/// </para>
/// <para>
/// Scores: euclidean, 2 x·c - |c|² (the largest is the nearest, distance |x|² - score); cosine (unit
/// vectors), x·c (distance 1 - score). Ties go to the lower centroid index.
/// </para>
/// </summary>
internal static unsafe class LloydKernel
{
    public const int BlockRows = 256;
    private const int Lanes = 8;
    private const int Group = 4;

    /// <summary>Partial sums per round of blocks are bounded by this many floats, whatever the thread count.</summary>
    private const int PartialFloatsPerRound = 1 << 20;

    /// <summary>The nearest centroid of every point, its distance, and (when <paramref name="sums"/> is given) each cluster's sum and count.</summary>
    public static void Assign(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads,
        long[] assignments, float[] distances, ClusterSums? sums)
    {
        var (k, kPadded, d) = (centroids.Count, centroids.PaddedCount, points.Columns);
        var euclidean = metric == KMeansMetric.Euclidean;
        var norms = euclidean ? points.SquaredNorms : null;
        sums?.Clear();
        ForEachBlock(points.Rows, threads, sums is null ? 0 : k * d, (start, rows, partial, counts) =>
        {
            var scores = ArrayPool<float>.Shared.Rent(rows * kPadded);
            Score(points, start, rows, centroids, scores);
            for (var r = 0; r < rows; r++)
            {
                var row = scores.AsSpan(r * kPadded, k);
                var (best, bestScore) = (0, float.NegativeInfinity);
                for (var c = 0; c < k; c++)
                {
                    var score = euclidean ? 2f * row[c] - centroids.SquaredNorms[c] : row[c];
                    if (score > bestScore) (best, bestScore) = (c, score);
                }
                var i = start + r;
                assignments[i] = best;
                distances[i] = Math.Max(0f, euclidean ? norms![i] - bestScore : 1f - bestScore);
                if (partial is not null)
                {
                    Add(points.Row(i), partial.AsSpan(best * d, d));
                    counts![best]++;
                }
            }
            ArrayPool<float>.Shared.Return(scores);
        }, sums);
    }

    /// <summary>Distances from every point to every centroid, row-major (N, K).</summary>
    public static void DistanceMatrix(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads, float[] result)
    {
        var (k, kPadded) = (centroids.Count, centroids.PaddedCount);
        var euclidean = metric == KMeansMetric.Euclidean;
        var norms = euclidean ? points.SquaredNorms : null;
        ForEachBlock(points.Rows, threads, 0, (start, rows, _, _) =>
        {
            var scores = ArrayPool<float>.Shared.Rent(rows * kPadded);
            Score(points, start, rows, centroids, scores);
            for (var r = 0; r < rows; r++)
            for (var c = 0; c < k; c++)
            {
                var dot = scores[r * kPadded + c];
                var distance = euclidean ? norms![start + r] - (2f * dot - centroids.SquaredNorms[c]) : 1f - dot;
                result[(long)(start + r) * k + c] = Math.Max(0f, distance);
            }
            ArrayPool<float>.Shared.Return(scores);
        }, null);
    }

    /// <summary>Each cluster's sum of points and count, for assignments made otherwise (size-balanced).</summary>
    public static void Sum(FeatureMatrix points, long[] assignments, int threads, ClusterSums sums)
    {
        var d = points.Columns;
        sums.Clear();
        ForEachBlock(points.Rows, threads, sums.Clusters * d, (start, rows, partial, counts) =>
        {
            for (var i = start; i < start + rows; i++)
            {
                var c = (int)assignments[i];
                Add(points.Row(i), partial.AsSpan(c * d, d));
                counts![c]++;
            }
        }, sums);
    }

    /// <summary>x·y in the kernel's fixed order.</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        fixed (float* a = x, b = y)
        {
            var acc = Vector256<float>.Zero;
            var j = 0;
            for (; j <= x.Length - Lanes; j += Lanes) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + j), Vector256.Load(b + j), acc);
            return Finish(acc, a, b, j, x.Length);
        }
    }

    /// <summary>Block b is rows [b·256, ...); a round runs its blocks in parallel, each into its own partial, then adds the partials in block order.</summary>
    private static void ForEachBlock(int rowCount, int threads, int partialSize, Action<int, int, float[]?, long[]?> block, ClusterSums? sums)
    {
        var blocks = (rowCount + BlockRows - 1) / BlockRows;
        var perRound = partialSize == 0 ? blocks : Math.Clamp(PartialFloatsPerRound / partialSize, 1, blocks);
        var partials = sums is null ? null : new float[perRound][];
        var counts = sums is null ? null : new long[perRound][];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        for (var first = 0; first < blocks; first += perRound)
        {
            var inRound = Math.Min(perRound, blocks - first);
            void Run(int slot)
            {
                var b = first + slot;
                float[]? partial = null;
                long[]? count = null;
                if (sums is not null)
                {
                    partial = partials![slot] ??= new float[partialSize];
                    count = counts![slot] ??= new long[sums.Clusters];
                    Array.Clear(partial);
                    Array.Clear(count);
                }
                var start = b * BlockRows;
                block(start, Math.Min(BlockRows, rowCount - start), partial, count);
            }
            if (threads <= 1 || inRound == 1) for (var slot = 0; slot < inRound; slot++) Run(slot);
            else Parallel.For(0, inRound, parallel, Run);
            if (sums is null) continue;
            for (var slot = 0; slot < inRound; slot++) sums.Add(partials![slot], counts![slot]);
        }
    }

    /// <summary>scores[r, c] = x_(start + r) · c_c for the block's rows and every (padded) centroid.</summary>
    private static void Score(FeatureMatrix points, int start, int rows, CentroidSet centroids, float[] scores)
    {
        var (d, kPadded) = (points.Columns, centroids.PaddedCount);
        fixed (float* x = points.Values, c = centroids.Padded, s = scores)
        {
            var r = 0;
            for (; r + 1 < rows; r += 2)
            {
                var x0 = x + (long)(start + r) * d;
                for (var g = 0; g < kPadded; g += Group) Dot2x4(x0, x0 + d, c + (long)g * d, d, s + r * kPadded + g, s + (r + 1) * kPadded + g);
            }
            if (r < rows)
            {
                var x0 = x + (long)(start + r) * d;
                for (var g = 0; g < kPadded; g += Group) Dot1x4(x0, c + (long)g * d, d, s + r * kPadded + g);
            }
        }
    }

    /// <summary>Two rows against four consecutive centroid rows: eight independent accumulators.</summary>
    private static void Dot2x4(float* x0, float* x1, float* c, int d, float* out0, float* out1)
    {
        float* c0 = c, c1 = c + d, c2 = c + 2 * d, c3 = c + 3 * d;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        var j = 0;
        for (; j <= d - Lanes; j += Lanes)
        {
            var v0 = Vector256.Load(x0 + j);
            var v1 = Vector256.Load(x1 + j);
            var w = Vector256.Load(c0 + j);
            a00 = Vector256.FusedMultiplyAdd(v0, w, a00);
            a10 = Vector256.FusedMultiplyAdd(v1, w, a10);
            w = Vector256.Load(c1 + j);
            a01 = Vector256.FusedMultiplyAdd(v0, w, a01);
            a11 = Vector256.FusedMultiplyAdd(v1, w, a11);
            w = Vector256.Load(c2 + j);
            a02 = Vector256.FusedMultiplyAdd(v0, w, a02);
            a12 = Vector256.FusedMultiplyAdd(v1, w, a12);
            w = Vector256.Load(c3 + j);
            a03 = Vector256.FusedMultiplyAdd(v0, w, a03);
            a13 = Vector256.FusedMultiplyAdd(v1, w, a13);
        }
        out0[0] = Finish(a00, x0, c0, j, d);
        out0[1] = Finish(a01, x0, c1, j, d);
        out0[2] = Finish(a02, x0, c2, j, d);
        out0[3] = Finish(a03, x0, c3, j, d);
        out1[0] = Finish(a10, x1, c0, j, d);
        out1[1] = Finish(a11, x1, c1, j, d);
        out1[2] = Finish(a12, x1, c2, j, d);
        out1[3] = Finish(a13, x1, c3, j, d);
    }

    /// <summary>One row against four centroid rows, summed exactly as <see cref="Dot2x4"/> sums each of its pairs.</summary>
    private static void Dot1x4(float* x0, float* c, int d, float* out0)
    {
        float* c0 = c, c1 = c + d, c2 = c + 2 * d, c3 = c + 3 * d;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var j = 0;
        for (; j <= d - Lanes; j += Lanes)
        {
            var v = Vector256.Load(x0 + j);
            a0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(c0 + j), a0);
            a1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(c1 + j), a1);
            a2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(c2 + j), a2);
            a3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(c3 + j), a3);
        }
        out0[0] = Finish(a0, x0, c0, j, d);
        out0[1] = Finish(a1, x0, c1, j, d);
        out0[2] = Finish(a2, x0, c2, j, d);
        out0[3] = Finish(a3, x0, c3, j, d);
    }

    /// <summary>The lanes summed pairwise in a fixed order, plus the elements [j, d) that do not fill a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> acc, float* x, float* y, int j, int d)
    {
        var half = acc.GetLower() + acc.GetUpper(); // lanes l + (l + 4)
        var sum = (half.GetElement(0) + half.GetElement(2)) + (half.GetElement(1) + half.GetElement(3));
        var tail = 0f;
        for (; j < d; j++) tail = MathF.FusedMultiplyAdd(x[j], y[j], tail);
        return sum + tail;
    }

    /// <summary>destination += source, elementwise.</summary>
    private static void Add(ReadOnlySpan<float> source, Span<float> destination)
    {
        fixed (float* s = source, t = destination)
        {
            var j = 0;
            for (; j <= source.Length - Lanes; j += Lanes) Vector256.Store(Vector256.Load(t + j) + Vector256.Load(s + j), t + j);
            for (; j < source.Length; j++) t[j] += s[j];
        }
    }
}

/// <summary>Centroids (K, d) as the kernel scores them: rows padded with zeros to a multiple of 4, and their squared lengths.</summary>
internal sealed class CentroidSet
{
    public CentroidSet(float[] centroids, int count, int columns)
    {
        Count = count;
        PaddedCount = (count + 3) / 4 * 4;
        Padded = new float[PaddedCount * columns];
        centroids.AsSpan(0, count * columns).CopyTo(Padded);
        SquaredNorms = new float[count];
        for (var c = 0; c < count; c++)
        {
            var row = Padded.AsSpan(c * columns, columns);
            SquaredNorms[c] = LloydKernel.Dot(row, row);
        }
    }

    public int Count { get; }

    public int PaddedCount { get; }

    public float[] Padded { get; }

    public float[] SquaredNorms { get; }
}

/// <summary>Per-cluster sums of points (K, d) in double and point counts, accumulated by <see cref="LloydKernel"/>.</summary>
internal sealed class ClusterSums(int clusters, int columns)
{
    public int Clusters { get; } = clusters;

    public double[] Totals { get; } = new double[clusters * columns];

    public long[] Counts { get; } = new long[clusters];

    public void Clear()
    {
        Array.Clear(Totals);
        Array.Clear(Counts);
    }

    public void Add(float[] partial, long[] counts)
    {
        for (var i = 0; i < Totals.Length; i++) Totals[i] += partial[i];
        for (var c = 0; c < Clusters; c++) Counts[c] += counts[c];
    }
}
