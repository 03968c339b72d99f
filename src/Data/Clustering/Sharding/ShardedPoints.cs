namespace Orleans.MoE.Data.Clustering.Sharding;

/// <summary>
/// One shard's rows of the points k-means clusters, and what it needs of the others': the global
/// row numbering (this shard's rows are [<see cref="First"/>, <see cref="First"/> + rows)), arrays
/// of every point concatenated in global order, chosen rows wherever they live, and per-block sums
/// combined in global block order.
/// <para>
/// Why the result equals one process's, bit for bit: every value that is per point (a distance, an
/// assignment) is computed by the same code on the same row; every sum over points is a sum of
/// per-block partials (blocks of <see cref="LloydKernel.BlockRows"/> rows) added in global block
/// order, the order one process adds them in; and what is global (the draws of k-means++, the
/// inertia, a size-balanced assignment) is computed by every shard alike from the gathered arrays.
/// That needs every shard but the last to hold whole blocks, which <see cref="ShardRanges"/> gives.
/// </para>
/// </summary>
internal sealed class ShardedPoints
{
    private readonly long[] _rowsPerShard;

    public ShardedPoints(FeatureMatrix local, IShardExchange exchange)
    {
        Local = local;
        Exchange = exchange;
        _rowsPerShard = exchange.GatherAll([local.Rows]).Select(p => p[0]).ToArray();
        var columns = exchange.GatherAll([local.Columns]).Select(p => p[0]).Distinct().ToList();
        if (columns.Count != 1) throw new ArgumentException($"the shards' features have different widths ({string.Join(", ", columns)})");
        for (var s = 0; s < _rowsPerShard.Length - 1; s++)
            if (_rowsPerShard[s] % LloydKernel.BlockRows != 0)
                throw new ArgumentException($"shard {s} holds {_rowsPerShard[s]} points; every shard but the last must hold whole blocks of {LloydKernel.BlockRows} (see ShardRanges)");
        First = _rowsPerShard.Take(exchange.Shard).Sum();
        TotalRows = _rowsPerShard.Sum();
    }

    public FeatureMatrix Local { get; }

    public IShardExchange Exchange { get; }

    /// <summary>The global index of this shard's first row.</summary>
    public long First { get; }

    public long TotalRows { get; }

    public int Columns => Local.Columns;

    /// <summary>Every shard's values, one per point, concatenated in global point order.</summary>
    public float[] Concat(float[] perLocalPoint) => Exchange.GatherAll(perLocalPoint).SelectMany(p => p).ToArray();

    /// <summary>Every shard's doubles concatenated in shard order (sent as their bits, so unchanged).</summary>
    public double[] Concat(double[] part) =>
        Exchange.GatherAll(part.Select(BitConverter.DoubleToInt64Bits).ToArray()).SelectMany(p => p).Select(BitConverter.Int64BitsToDouble).ToArray();

    /// <summary>
    /// t columns of values per point, computed by each shard for its rows as a row-major (local rows, t)
    /// matrix: one global array of N per column.
    /// </summary>
    public float[][] ConcatColumns(float[] localMatrix, int t)
    {
        var parts = Exchange.GatherAll(localMatrix);
        var result = new float[t][];
        for (var c = 0; c < t; c++)
        {
            var column = new float[TotalRows];
            long at = 0;
            foreach (var part in parts)
            {
                var rows = part.Length / t;
                for (var r = 0; r < rows; r++) column[at + r] = part[(long)r * t + c];
                at += rows;
            }
            result[c] = column;
        }
        return result;
    }

    /// <summary>The given global rows, copied into a new (count, d) array: each from the shard that holds it.</summary>
    public float[] GatherRows(IReadOnlyList<long> rows)
    {
        var d = Columns;
        var mine = new float[rows.Count * d];
        for (var r = 0; r < rows.Count; r++)
            if (rows[r] >= First && rows[r] < First + Local.Rows)
                Local.Row((int)(rows[r] - First)).CopyTo(mine.AsSpan(r * d, d));
        if (Exchange.Shards == 1) return mine;
        var parts = Exchange.GatherAll(mine);
        var result = new float[rows.Count * d];
        for (var r = 0; r < rows.Count; r++)
            parts[Owner(rows[r])].AsSpan(r * d, d).CopyTo(result.AsSpan(r * d, d));
        return result;
    }

    /// <summary>Each cluster's sum and count over every shard's points: the blocks' partials added in global block order.</summary>
    public ClusterSums Combine(BlockPartials local)
    {
        var sums = new ClusterSums(local.Clusters, local.Columns);
        if (Exchange.Shards == 1)
        {
            local.AddTo(sums);
            return sums;
        }
        var totals = Exchange.GatherAll(local.Totals);
        var counts = Exchange.GatherAll(local.Counts);
        for (var s = 0; s < totals.Length; s++) new BlockPartials(local.Clusters, local.Columns, totals[s], counts[s]).AddTo(sums);
        return sums;
    }

    /// <summary>The mean over feature dimensions of their variance over all points (see <see cref="FeatureMatrix.MeanVariance"/>).</summary>
    public double MeanVariance()
    {
        var moments = Local.BlockMoments();
        return FeatureMatrix.MeanVariance(Exchange.Shards == 1 ? moments : Concat(moments), TotalRows, Columns);
    }

    private int Owner(long row)
    {
        long end = 0;
        for (var s = 0; s < _rowsPerShard.Length; s++)
            if (row < (end += _rowsPerShard[s])) return s;
        throw new ArgumentOutOfRangeException(nameof(row), row, $"there are {TotalRows} points");
    }
}
