using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>The FFN of one transformer block, applied to the flattened tokens of a batch.</summary>
public abstract class FeedForward : Module
{
    /// <summary>(N, d) tokens -> (N, d), plus the weighted auxiliary loss of a routed layer (null when there is none).</summary>
    public abstract FfnOutput Forward(Tensor x);
}

/// <summary>An FFN's output (N, d) and its weighted auxiliary loss (a scalar), if any.</summary>
public readonly record struct FfnOutput(Tensor Output, Tensor? AuxLoss);
