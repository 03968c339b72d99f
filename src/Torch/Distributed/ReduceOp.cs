namespace Orleans.MoE.Torch.Distributed;

/// <summary>How <see cref="ProcessGroup.AllReduce"/> combines the ranks' tensors.</summary>
public enum ReduceOp
{
    Sum = 0,
    /// <summary>The sum divided by the world size (floating-point tensors only).</summary>
    Average = 1,
    Max = 2,
    Min = 3,
}
