using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// The standard MoE FFN (Mixtral-style, as the paper's baseline): a bias-free linear router on the
/// token, top-k of logits + balancing bias, softmax over the k selected logits, and the gate-weighted
/// sum of the k experts' outputs. Dropless.
/// </summary>
public sealed class MoeFeedForward : RoutedFeedForward
{
    public MoeFeedForward(int dModel, MoeConfig moe, BalancingConfig balancing, WeightInit init)
        : base(1, moe, balancing, init)
    {
        Router = RegisterParameter("router", init.Normal(moe.NumExperts, dModel));
        Experts = RegisterModule("experts", new ExpertBank([moe.NumExperts], dModel, moe.ExpertDim, moe.Activation, scaledOutput: true, init));
    }

    /// <summary>(N_e, d). Float32 like the rest of the model (float64 when the model is float64).</summary>
    public Parameter Router { get; }

    /// <summary>Weights (N_e, d_e, d) and (N_e, d, d_e).</summary>
    public ExpertBank Experts { get; }

    /// <summary>(N, d) -> (N, d)</summary>
    public override FfnOutput Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var n = x.Size(0);
        var logits = Functional.Linear(x, Router).View(1, n, NumExperts);                // (1, N, N_e)
        var routed = Route(logits);
        var output = Experts.Apply(x, routed.ExpertIds, routed.Gates, routed.Counts);     // (N, d)
        return new FfnOutput(scope.MoveToOuter(output), routed.AuxLoss is { } aux ? scope.MoveToOuter(aux) : null);
    }
}
