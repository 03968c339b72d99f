using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Data.Clustering.Sharding;

/// <summary>
/// The shards of a clustering as the ranks of a c10d process group (one worker process per data
/// shard): a gather is two all-gathers, of the parts' lengths and then of the parts padded to the
/// longest. Only the bytes move; every shard then computes the same thing from the same arrays.
/// </summary>
public sealed class ProcessGroupShardExchange(ProcessGroup group) : IShardExchange
{
    public int Shard => group.Rank;

    public int Shards => group.WorldSize;

    public float[][] GatherAll(float[] part) => Gather(part);

    public long[][] GatherAll(long[] part) => Gather(part);

    public long[] SumAll(long[] part)
    {
        using var scope = DisposeScope.Begin();
        var sum = Tensor.FromArray(part, part.LongLength);
        group.AllReduce(sum, ReduceOp.Sum, label: "shard sums");
        return sum.ToArray<long>();
    }

    private T[][] Gather<T>(T[] part) where T : unmanaged
    {
        using var scope = DisposeScope.Begin();
        var lengths = group.AllGather(Tensor.FromArray(new long[] { part.LongLength }), "shard part lengths").ToArray<long>(); // (P)
        var longest = lengths.Max();
        if (longest == 0) return lengths.Select(_ => Array.Empty<T>()).ToArray();
        var padded = new T[longest];
        part.CopyTo(padded, 0);
        var all = group.AllGather(Tensor.FromArray(padded, longest), "shard parts").ToArray<T>(); // (P · longest)
        var result = new T[lengths.Length][];
        for (var s = 0; s < lengths.Length; s++) result[s] = all.AsSpan((int)(s * longest), (int)lengths[s]).ToArray();
        return result;
    }
}
