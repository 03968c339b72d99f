namespace Orleans.MoE.Model.Routing;

/// <summary>
/// Which share of every routed layer this model holds: part <see cref="Index"/> of <see cref="Count"/>
/// equal parts of the heads (Multi-Head LatentMoE, for head parallelism) or of the experts (MoE and
/// LatentMoE, for expert parallelism). The whole model is part 0 of 1. Parts are contiguous: part p of
/// N_h heads is heads [p N_h / Count, (p + 1) N_h / Count).
/// </summary>
public sealed record ExpertPartition(int Index, int Count)
{
    public static readonly ExpertPartition Whole = new(0, 1);

    public bool IsWhole => Count == 1;

    /// <summary>The rows [Start, Start + Count) of <paramref name="total"/> this part holds; total must divide evenly.</summary>
    public RowSlice Of(long total, string what)
    {
        if (Count < 1 || Index < 0 || Index >= Count)
            throw new ArgumentOutOfRangeException(nameof(Index), $"part {Index} of {Count} does not exist");
        if (total % Count != 0)
            throw new ArgumentException($"{total} {what} cannot be split into {Count} equal parts; choose a number of ranks that divides {total}");
        var size = total / Count;
        return new RowSlice(Index * size, size, total);
    }
}

/// <summary>Taking a part's rows out of whole-model tensors.</summary>
public static class PartialState
{
    /// <summary>
    /// <paramref name="whole"/> with every entry named in <paramref name="partial"/> narrowed to its rows
    /// (views, not copies); other entries as they are. An entry whose row count is not the whole
    /// model's raises an <see cref="ArgumentException"/> naming it.
    /// </summary>
    public static Dictionary<string, Orleans.MoE.Torch.Tensor> TakeRows(IReadOnlyDictionary<string, Orleans.MoE.Torch.Tensor> whole,
        IReadOnlyDictionary<string, RowSlice> partial)
    {
        var result = new Dictionary<string, Orleans.MoE.Torch.Tensor>(whole, StringComparer.Ordinal);
        foreach (var (name, slice) in partial)
        {
            if (!whole.TryGetValue(name, out var tensor)) continue;
            var shape = tensor.Shape;
            if (shape.Length == 0 || shape[0] != slice.Total)
                throw new ArgumentException($"{name} has {(shape.Length == 0 ? 0 : shape[0])} rows where the whole model has {slice.Total}");
            result[name] = tensor.Narrow(0, slice.Start, slice.Count);
        }
        return result;
    }
}

/// <summary>Rows [Start, Start + Count) of a tensor whose dimension 0 has <see cref="Total"/> rows in the whole model.</summary>
public readonly record struct RowSlice(long Start, long Count, long Total)
{
    public bool IsWhole => Count == Total;
}
