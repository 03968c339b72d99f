using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// The standard MoE FFN (Mixtral-style, as the paper's baseline): a bias-free linear router on the
/// token, top-k of logits + balancing bias, softmax over the k selected logits, and the gate-weighted
/// sum of the k experts' outputs. Dropless.
/// <para>
/// Under expert parallelism the layer holds one contiguous part of the experts (the router and bias stay
/// whole, shared by every rank) and an <see cref="IExpertDispatch"/> sends each assignment to the rank
/// that owns its expert.
/// </para>
/// </summary>
public sealed class MoeFeedForward : RoutedFeedForward
{
    public MoeFeedForward(int dModel, MoeConfig moe, BalancingConfig balancing, WeightInit init, ExpertPartition? partition = null)
        : base(1, moe, balancing, init)
    {
        Router = RegisterParameter("router", init.Normal(moe.NumExperts, dModel));
        var slice = (partition ?? ExpertPartition.Whole).Of(moe.NumExperts, "experts");
        Experts = RegisterModule("experts", new ExpertBank([moe.NumExperts], dModel, moe.ExpertDim, moe.Activation, scaledOutput: true, init, slice, moe.Kernels));
        PartialTensors = ExpertTensors(Experts);
    }

    public override IReadOnlyDictionary<string, RowSlice> PartialTensors { get; }

    /// <summary>How assignments reach experts held by other ranks; required when the layer holds only some experts.</summary>
    public IExpertDispatch? ExpertDispatch { get; set; }

    /// <summary>(N_e, d). Float32 like the rest of the model (float64 when the model is float64).</summary>
    public Parameter Router { get; }

    /// <summary>Weights (N_e, d_e, d) and (N_e, d, d_e).</summary>
    public ExpertBank Experts { get; }

    /// <summary>(N, d) -> (N, d)</summary>
    public override FfnOutput Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var routed = Route(x.Unsqueeze(0), Router.Unsqueeze(0));                          // one group: (1, N, d), (1, N_e, d)
        var output = ApplyExperts(Experts, ExpertDispatch, x, routed);                    // (N, d)
        return new FfnOutput(scope.MoveToOuter(output), routed.AuxLoss is { } aux ? scope.MoveToOuter(aux) : null);
    }
}
