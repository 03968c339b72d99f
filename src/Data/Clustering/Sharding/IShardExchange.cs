namespace Orleans.MoE.Data.Clustering.Sharding;

/// <summary>
/// How the shards of a sharded clustering exchange what they computed on their own documents. Every
/// shard calls the same methods in the same order (a collective): each contributes its part and
/// receives every shard's part, in shard order. Shard s holds a contiguous range of the corpus's
/// documents that comes after shard s - 1's, so parts in shard order are parts in document order.
/// </summary>
public interface IShardExchange
{
    /// <summary>This shard's index.</summary>
    int Shard { get; }

    int Shards { get; }

    /// <summary>Every shard's array (their lengths may differ), in shard order.</summary>
    float[][] GatherAll(float[] part);

    /// <summary>Every shard's array (their lengths may differ), in shard order.</summary>
    long[][] GatherAll(long[] part);

    /// <summary>The element-wise sum of every shard's array (all of one length); integers, so exact in any order.</summary>
    long[] SumAll(long[] part);
}

/// <summary>The exchange of a clustering that is not sharded: its one shard receives its own parts.</summary>
public sealed class SingleShard : IShardExchange
{
    public static readonly SingleShard Instance = new();

    public int Shard => 0;

    public int Shards => 1;

    public float[][] GatherAll(float[] part) => [part];

    public long[][] GatherAll(long[] part) => [part];

    public long[] SumAll(long[] part) => part;
}
