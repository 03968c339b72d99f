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
    public double MeanVariance()
    {
        var sums = new double[Columns];
        var squares = 0.0;
        for (var i = 0; i < Rows; i++)
        {
            var row = Row(i);
            for (var j = 0; j < row.Length; j++)
            {
                sums[j] += row[j];
                squares += (double)row[j] * row[j];
            }
        }
        // Σ_j var(x_j) = E|x|² - |E x|².
        var meanSquares = 0.0;
        foreach (var s in sums) meanSquares += s / Rows * (s / Rows);
        return Math.Max(0, squares / Rows - meanSquares) / Columns;
    }

    private float[] ComputeSquaredNorms()
    {
        var norms = new float[Rows];
        for (var i = 0; i < Rows; i++) norms[i] = LloydKernel.Dot(Row(i), Row(i));
        return norms;
    }
}
