using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// Points for k-means in managed memory: (N, d) Float32, row-major, with their squared lengths,
/// which the euclidean assignment reuses every iteration. Copied once from a tensor.
/// </summary>
internal sealed class FeatureMatrix
{
    private float[]? _squaredNorms;

    public FeatureMatrix(float[] values, int rows, int columns)
    {
        if ((long)rows * columns != values.LongLength)
            throw new ArgumentException($"{values.LongLength} values cannot form a ({rows}, {columns}) matrix", nameof(values));
        Values = values;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>The rows of a (N, d) tensor (converted to Float32 when needed).</summary>
    public static FeatureMatrix From(Tensor points)
    {
        if (points.Dim != 2) throw new ArgumentException($"features must be a matrix (N, d), not of shape [{string.Join(", ", points.Shape)}]", nameof(points));
        var (rows, columns) = (points.Size(0), points.Size(1));
        if (rows * columns > Array.MaxLength) throw new ArgumentException($"({rows}, {columns}) features do not fit in one array; use mini-batch k-means", nameof(points));
        using var scope = DisposeScope.Begin();
        var values = points.To(ScalarType.Float32).Contiguous().ToArray<float>();
        return new FeatureMatrix(values, (int)rows, (int)columns);
    }

    public float[] Values { get; }

    public int Rows { get; }

    public int Columns { get; }

    public ReadOnlySpan<float> Row(int i) => Values.AsSpan(i * Columns, Columns);

    /// <summary>|x_i|² for every row (N), computed once.</summary>
    public float[] SquaredNorms => _squaredNorms ??= ComputeSquaredNorms();

    /// <summary>The given rows, copied into a new (count, d) array.</summary>
    public float[] Gather(IReadOnlyList<long> rows)
    {
        var result = new float[rows.Count * Columns];
        for (var r = 0; r < rows.Count; r++) Row((int)rows[r]).CopyTo(result.AsSpan(r * Columns, Columns));
        return result;
    }

    /// <summary>The mean over feature dimensions of their (population) variance: scikit-learn's scale for the k-means tolerance.</summary>
    public double MeanVariance() => MeanVariance(BlockMoments(), Rows, Columns);

    /// <summary>
    /// Per block of <see cref="LloydKernel.BlockRows"/> rows, the sum of each column and the sum of
    /// squares, each summed from zero in row order: (blocks, d + 1) row-major. Sums over all points
    /// are these added in block order, so a shard's blocks give the same sums as one process's.
    /// </summary>
    public double[] BlockMoments()
    {
        var blocks = (Rows + LloydKernel.BlockRows - 1) / LloydKernel.BlockRows;
        var moments = new double[blocks * (Columns + 1)];
        for (var b = 0; b < blocks; b++)
        {
            var block = moments.AsSpan(b * (Columns + 1), Columns + 1);
            for (var i = b * LloydKernel.BlockRows; i < Math.Min(Rows, (b + 1) * LloydKernel.BlockRows); i++)
            {
                var row = Row(i);
                for (var j = 0; j < row.Length; j++)
                {
                    block[j] += row[j];
                    block[Columns] += (double)row[j] * row[j];
                }
            }
        }
        return moments;
    }

    /// <summary>The mean variance from <see cref="BlockMoments"/> of <paramref name="rows"/> points (of one shard or of all, in block order).</summary>
    public static double MeanVariance(double[] blockMoments, long rows, int columns)
    {
        var sums = new double[columns];
        var squares = 0.0;
        for (var b = 0; b < blockMoments.Length; b += columns + 1)
        {
            for (var j = 0; j < columns; j++) sums[j] += blockMoments[b + j];
            squares += blockMoments[b + columns];
        }
        // Σ_j var(x_j) = E|x|² - |E x|².
        var meanSquares = 0.0;
        foreach (var s in sums) meanSquares += s / rows * (s / rows);
        return Math.Max(0, squares / rows - meanSquares) / columns;
    }

    private float[] ComputeSquaredNorms()
    {
        var norms = new float[Rows];
        for (var i = 0; i < Rows; i++) norms[i] = LloydKernel.Dot(Row(i), Row(i));
        return norms;
    }
}
