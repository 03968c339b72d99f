using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// The assignment step of k-means (and the centroid sums of the update step) as one pass over the
/// points, in blocks of <see cref="BlockRows"/> rows that stay in cache: the dot products of a block
/// with every centroid (4 rows x 2 centroids per step, 8 float lanes with fused multiply-adds), the
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
    private const int RowTile = 4;
    private const int CentroidTile = 2;

    /// <summary>Partial sums per round of blocks are bounded by this many floats, whatever the thread count.</summary>
    private const int PartialFloatsPerRound = 1 << 20;

    /// <summary>The nearest centroid of every point, its distance, and (when <paramref name="sums"/> is given) each cluster's sum and count.</summary>
    public static void Assign(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads,
        long[] assignments, float[] distances, ClusterSums? sums)
    {
        sums?.Clear();
        Assign(points, centroids, metric, threads, assignments, distances, sums is null ? null : (_, partial, counts) => sums.Add(partial, counts));
    }

    /// <summary>The nearest centroid of every point and its distance, and each block's cluster sums and counts kept apart (for a shard).</summary>
    public static void Assign(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads,
        long[] assignments, float[] distances, BlockPartials partials) =>
        Assign(points, centroids, metric, threads, assignments, distances, partials.Store);

    private static void Assign(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads,
        long[] assignments, float[] distances, BlockSink? sink)
    {
        var (k, kPadded, d) = (centroids.Count, centroids.PaddedCount, points.Columns);
        var euclidean = metric == KMeansMetric.Euclidean;
        var norms = euclidean ? points.SquaredNorms : null;
        ForEachBlock(points.Rows, threads, sink is null ? 0 : k * d, k, (start, rows, partial, counts) =>
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
            }
            ArrayPool<float>.Shared.Return(scores);
            if (partial is not null) Accumulate(points, start, rows, assignments, partial, counts!);
        }, sink);
    }

    /// <summary>Distances from every point to every centroid, row-major (N, K).</summary>
    public static void DistanceMatrix(FeatureMatrix points, CentroidSet centroids, KMeansMetric metric, int threads, float[] result)
    {
        var (k, kPadded) = (centroids.Count, centroids.PaddedCount);
        var euclidean = metric == KMeansMetric.Euclidean;
        var norms = euclidean ? points.SquaredNorms : null;
        ForEachBlock(points.Rows, threads, 0, 0, (start, rows, _, _) =>
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
    public static void Sum(FeatureMatrix points, long[] assignments, int threads, BlockPartials partials) =>
        ForEachBlock(points.Rows, threads, partials.Clusters * points.Columns, partials.Clusters,
            (start, rows, partial, counts) => Accumulate(points, start, rows, assignments, partial!, counts!), partials.Store);

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

    /// <summary>Receives block b's partial cluster sums (K, d) and counts (K), blocks in increasing order.</summary>
    private delegate void BlockSink(int block, float[] partial, long[] counts);

    /// <summary>Block b is rows [b·256, ...); a round runs its blocks in parallel, each into its own partial, then hands the partials on in block order.</summary>
    private static void ForEachBlock(int rowCount, int threads, int partialSize, int clusters, Action<int, int, float[]?, long[]?> block, BlockSink? sink)
    {
        var blocks = (rowCount + BlockRows - 1) / BlockRows;
        if (blocks == 0) return;   // a data shard without points
        var perRound = partialSize == 0 ? blocks : Math.Clamp(PartialFloatsPerRound / partialSize, 1, blocks);
        var partials = sink is null ? null : new float[perRound][];
        var counts = sink is null ? null : new long[perRound][];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        for (var first = 0; first < blocks; first += perRound)
        {
            var inRound = Math.Min(perRound, blocks - first);
            void Run(int slot)
            {
                var b = first + slot;
                float[]? partial = null;
                long[]? count = null;
                if (sink is not null)
                {
                    partial = partials![slot] ??= new float[partialSize];
                    count = counts![slot] ??= new long[clusters];
                    Array.Clear(partial);
                    Array.Clear(count);
                }
                var start = b * BlockRows;
                block(start, Math.Min(BlockRows, rowCount - start), partial, count);
            }
            if (threads <= 1 || inRound == 1) for (var slot = 0; slot < inRound; slot++) Run(slot);
            else Parallel.For(0, inRound, parallel, Run);
            if (sink is null) continue;
            for (var slot = 0; slot < inRound; slot++) sink(first + slot, partials![slot], counts![slot]);
        }
    }

    /// <summary>scores[r, c] = x_(start + r) · c_c for the block's rows and every (padded) centroid.</summary>
    private static void Score(FeatureMatrix points, int start, int rows, CentroidSet centroids, float[] scores)
    {
        var (d, kPadded) = (points.Columns, centroids.PaddedCount);
        fixed (float* x = points.Values, c = centroids.Padded, s = scores)
        {
            var r = 0;
            for (; r + RowTile <= rows; r += RowTile)
            {
                var x0 = x + (long)(start + r) * d;
                for (var g = 0; g < kPadded; g += CentroidTile) Dot4x2(x0, d, c + (long)g * d, s + r * kPadded + g, kPadded);
            }
            for (; r < rows; r++)
            {
                var x0 = x + (long)(start + r) * d;
                for (var g = 0; g < kPadded; g += CentroidTile) Dot1x2(x0, c + (long)g * d, d, s + r * kPadded + g);
            }
        }
    }

    /// <summary>Four consecutive rows against two consecutive centroid rows: eight independent accumulators, six loads per eight multiply-adds.</summary>
    private static void Dot4x2(float* x, int d, float* c, float* scores, int stride)
    {
        float* x0 = x, x1 = x + d, x2 = x + 2 * d, x3 = x + 3 * d, c0 = c, c1 = c + d;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        var j = 0;
        for (; j <= d - Lanes; j += Lanes)
        {
            var w0 = Vector256.Load(c0 + j);
            var w1 = Vector256.Load(c1 + j);
            var v = Vector256.Load(x0 + j);
            a00 = Vector256.FusedMultiplyAdd(v, w0, a00);
            a01 = Vector256.FusedMultiplyAdd(v, w1, a01);
            v = Vector256.Load(x1 + j);
            a10 = Vector256.FusedMultiplyAdd(v, w0, a10);
            a11 = Vector256.FusedMultiplyAdd(v, w1, a11);
            v = Vector256.Load(x2 + j);
            a20 = Vector256.FusedMultiplyAdd(v, w0, a20);
            a21 = Vector256.FusedMultiplyAdd(v, w1, a21);
            v = Vector256.Load(x3 + j);
            a30 = Vector256.FusedMultiplyAdd(v, w0, a30);
            a31 = Vector256.FusedMultiplyAdd(v, w1, a31);
        }
        scores[0] = Finish(a00, x0, c0, j, d);
        scores[1] = Finish(a01, x0, c1, j, d);
        scores[stride] = Finish(a10, x1, c0, j, d);
        scores[stride + 1] = Finish(a11, x1, c1, j, d);
        scores[2 * stride] = Finish(a20, x2, c0, j, d);
        scores[2 * stride + 1] = Finish(a21, x2, c1, j, d);
        scores[3 * stride] = Finish(a30, x3, c0, j, d);
        scores[3 * stride + 1] = Finish(a31, x3, c1, j, d);
    }

    /// <summary>One row against two centroid rows, summed exactly as <see cref="Dot4x2"/> sums each of its pairs.</summary>
    private static void Dot1x2(float* x0, float* c, int d, float* scores)
    {
        float* c0 = c, c1 = c + d;
        Vector256<float> a0 = default, a1 = default;
        var j = 0;
        for (; j <= d - Lanes; j += Lanes)
        {
            var v = Vector256.Load(x0 + j);
            a0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(c0 + j), a0);
            a1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(c1 + j), a1);
        }
        scores[0] = Finish(a0, x0, c0, j, d);
        scores[1] = Finish(a1, x0, c1, j, d);
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

    /// <summary>
    /// Adds each row of a block to its cluster's partial sum, rows in increasing order (so the sums
    /// do not depend on how they are grouped): the rows are first grouped by cluster, then each
    /// cluster's sum is built 32 floats at a time in registers, loaded and stored once per group.
    /// </summary>
    private static void Accumulate(FeatureMatrix points, int start, int rows, long[] assignments, float[] partial, long[] counts)
    {
        var (d, k) = (points.Columns, counts.Length);
        Span<int> order = stackalloc int[rows];
        Span<int> first = k < 1024 ? stackalloc int[k + 1] : new int[k + 1];
        first.Clear();
        for (var r = 0; r < rows; r++) first[(int)assignments[start + r] + 1]++;
        for (var c = 0; c < k; c++) first[c + 1] += first[c];
        Span<int> next = k < 1024 ? stackalloc int[k] : new int[k];
        first[..k].CopyTo(next);
        for (var r = 0; r < rows; r++) order[next[(int)assignments[start + r]]++] = r;

        fixed (float* x = points.Values, p = partial)
        {
            var block = x + (long)start * d;
            for (var c = 0; c < k; c++)
            {
                var members = order[first[c]..first[c + 1]];
                if (members.IsEmpty) continue;
                counts[c] += members.Length;
                var sum = p + (long)c * d;
                var j = 0;
                for (; j <= d - 4 * Lanes; j += 4 * Lanes)
                {
                    var (s0, s1, s2, s3) = (Vector256.Load(sum + j), Vector256.Load(sum + j + Lanes), Vector256.Load(sum + j + 2 * Lanes), Vector256.Load(sum + j + 3 * Lanes));
                    foreach (var m in members)
                    {
                        var row = block + (long)m * d + j;
                        s0 += Vector256.Load(row);
                        s1 += Vector256.Load(row + Lanes);
                        s2 += Vector256.Load(row + 2 * Lanes);
                        s3 += Vector256.Load(row + 3 * Lanes);
                    }
                    Vector256.Store(s0, sum + j);
                    Vector256.Store(s1, sum + j + Lanes);
                    Vector256.Store(s2, sum + j + 2 * Lanes);
                    Vector256.Store(s3, sum + j + 3 * Lanes);
                }
                for (; j <= d - Lanes; j += Lanes)
                {
                    var s0 = Vector256.Load(sum + j);
                    foreach (var m in members) s0 += Vector256.Load(block + (long)m * d + j);
                    Vector256.Store(s0, sum + j);
                }
                for (; j < d; j++)
                {
                    var s0 = sum[j];
                    foreach (var m in members) s0 += block[(long)m * d + j];
                    sum[j] = s0;
                }
            }
        }
    }
}

/// <summary>Centroids (K, d) as the kernel scores them: rows padded with zeros to an even number, and their squared lengths.</summary>
internal sealed class CentroidSet
{
    public CentroidSet(float[] centroids, int count, int columns)
    {
        Count = count;
        PaddedCount = (count + 1) / 2 * 2;
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

    public void Add(ReadOnlySpan<float> partial, ReadOnlySpan<long> counts)
    {
        for (var i = 0; i < Totals.Length; i++) Totals[i] += partial[i];
        for (var c = 0; c < Clusters; c++) Counts[c] += counts[c];
    }
}

/// <summary>
/// Each block's partial cluster sums (K, d) and counts (K), kept apart in block order: what a shard
/// contributes, so that the blocks of every shard are added in the one global order.
/// </summary>
internal sealed class BlockPartials
{
    public BlockPartials(int clusters, int columns, int rows)
        : this(clusters, columns, new float[(long)Blocks(rows) * clusters * columns], new long[(long)Blocks(rows) * clusters])
    {
    }

    public BlockPartials(int clusters, int columns, float[] totals, long[] counts)
    {
        (Clusters, Columns, Totals, Counts) = (clusters, columns, totals, counts);
    }

    public int Clusters { get; }

    public int Columns { get; }

    /// <summary>(blocks, K, d) row-major.</summary>
    public float[] Totals { get; }

    /// <summary>(blocks, K) row-major.</summary>
    public long[] Counts { get; }

    public void Store(int block, float[] partial, long[] counts)
    {
        var size = Clusters * Columns;
        partial.AsSpan(0, size).CopyTo(Totals.AsSpan(block * size, size));
        counts.AsSpan(0, Clusters).CopyTo(Counts.AsSpan(block * Clusters, Clusters));
    }

    /// <summary>Adds the blocks to <paramref name="sums"/> in block order, as one process adds them.</summary>
    public void AddTo(ClusterSums sums)
    {
        var size = Clusters * Columns;
        for (var b = 0; b < Counts.Length / Math.Max(1, Clusters); b++)
            sums.Add(Totals.AsSpan(b * size, size), Counts.AsSpan(b * Clusters, Clusters));
    }

    private static int Blocks(int rows) => (rows + LloydKernel.BlockRows - 1) / LloydKernel.BlockRows;
}
