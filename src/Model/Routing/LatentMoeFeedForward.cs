using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// LatentMoE (Elango et al. 2026): the router sees the full-width token, but the experts work in a
/// latent width ℓ: one shared down-projection (ℓ, d) before them and one shared up-projection (d, ℓ)
/// after the gate-weighted sum. The paper does not report ℓ for its LatentMoE baseline; it is a
/// required field here (LatentMoE recommends d/4). No shared experts.
/// <para>
/// Initialisation (not in the released code): the up-projection writes into the residual stream, so
/// it gets std / sqrt(2 n_layers); the latent experts get plain std, as the paper's code does for the
/// experts of Multi-Head LatentMoE, whose role they share.
/// </para>
/// </summary>
public sealed class LatentMoeFeedForward : RoutedFeedForward
{
    public LatentMoeFeedForward(int dModel, MoeConfig moe, LatentConfig latent, BalancingConfig balancing, WeightInit init,
        ExpertPartition? partition = null)
        : base(1, moe, balancing, init)
    {
        LatentDim = latent.LatentDim;
        Router = RegisterParameter("router", init.Normal(moe.NumExperts, dModel));
        WDown = RegisterParameter("w_latent_down", init.Normal(LatentDim, dModel));
        var slice = (partition ?? ExpertPartition.Whole).Of(moe.NumExperts, "experts");
        Experts = RegisterModule("experts", new ExpertBank([moe.NumExperts], LatentDim, moe.ExpertDim, moe.Activation, scaledOutput: false, init, slice, moe.Kernels));
        WUp = RegisterParameter("w_latent_up", init.OutputProjection(dModel, LatentDim));
        PartialTensors = ExpertTensors(Experts);
    }

    public override IReadOnlyDictionary<string, RowSlice> PartialTensors { get; }

    /// <summary>How latent assignments reach experts held by other ranks; required when the layer holds only some experts.</summary>
    public IExpertDispatch? ExpertDispatch { get; set; }

    public int LatentDim { get; }

    /// <summary>(N_e, d), on the full-width token.</summary>
    public Parameter Router { get; }

    /// <summary>(ℓ, d)</summary>
    public Parameter WDown { get; }

    /// <summary>Weights (N_e, d_e, ℓ) and (N_e, ℓ, d_e).</summary>
    public ExpertBank Experts { get; }

    /// <summary>(d, ℓ)</summary>
    public Parameter WUp { get; }

    /// <summary>(N, d) -> (N, d)</summary>
    public override FfnOutput Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var routed = Route(x.Unsqueeze(0), Router.Unsqueeze(0));                          // one group: (1, N, d), (1, N_e, d)
        var latent = Functional.Linear(x, WDown);                                          // (N, ℓ)
        var mixed = ApplyExperts(Experts, ExpertDispatch, latent, routed);                 // (N, ℓ)
        var output = Functional.Linear(mixed, WUp);                                        // (N, d)
        return new FfnOutput(scope.MoveToOuter(output), routed.AuxLoss is { } aux ? scope.MoveToOuter(aux) : null);
    }
}
