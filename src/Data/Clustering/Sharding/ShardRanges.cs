namespace Orleans.MoE.Data.Clustering.Sharding;

/// <summary>
/// How N points (a corpus split's documents) are dealt to S shards: contiguous ranges in order, of
/// whole blocks of <see cref="LloydKernel.BlockRows"/> points (the last shard takes the remainder),
/// the blocks shared out as evenly as they go. A split of fewer than S blocks leaves some shards
/// without points; they still take part in every exchange.
/// </summary>
public static class ShardRanges
{
    public static int BlockRows => LloydKernel.BlockRows;

    /// <summary>Shard <paramref name="shard"/>'s points: [Start, End).</summary>
    public static (int Start, int End) Of(int points, int shard, int shards)
    {
        if (shards < 1 || shard < 0 || shard >= shards) throw new ArgumentOutOfRangeException(nameof(shard), shard, $"shard {shard} of {shards} does not exist");
        var blocks = (points + BlockRows - 1) / BlockRows;
        var first = (int)((long)blocks * shard / shards);
        var last = (int)((long)blocks * (shard + 1) / shards);
        return (Math.Min(points, first * BlockRows), Math.Min(points, last * BlockRows));
    }
}
