using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// Multi-Head LatentMoE (Cui et al. 2026, Eqs. 5-6): W_in splits each token into N_h sub-tokens of
/// width d_h; each head routes its sub-token with its own router and bias among its own N_e experts
/// (d_h -> d_e -> d_h); the heads' outputs are concatenated and projected by W_out. N_e, k and d_e are
/// per head. With N_h · d_h = d this has the routed and active expert parameters of an MoE with the
/// same N_e, k, d_e, plus 2d² for W_in and W_out.
/// <para>
/// Layout is head-major, (N_h, tokens, d_h), as in the paper's code: head h's router, bias and experts
/// are slice h of their tensors, which is what a head-parallel rank takes. The router is stored
/// (N_h, N_e, d_h), each head's slice in the (out, in) convention of a linear layer (the paper's code
/// stores its transpose). Initialisation follows that code: W_out is an output projection
/// (std / sqrt(2 n_layers)); the experts' second matrix gets plain std.
/// </para>
/// <para>
/// Under head parallelism the layer holds a contiguous part of the heads (their routers, biases and
/// experts); W_in and W_out stay whole, shared by every rank, and an <see cref="IHeadExchange"/> brings
/// every rank's sub-tokens of those heads here before routing and takes the outputs back after.
/// </para>
/// </summary>
public sealed class MultiHeadLatentMoeFeedForward : RoutedFeedForward
{
    public MultiHeadLatentMoeFeedForward(int dModel, MoeConfig moe, HeadsConfig heads, BalancingConfig balancing, WeightInit init,
        ExpertPartition? partition = null)
        : this(dModel, moe, heads, balancing, init, (partition ?? ExpertPartition.Whole).Of(heads.NumHeads, "heads"))
    {
    }

    private MultiHeadLatentMoeFeedForward(int dModel, MoeConfig moe, HeadsConfig heads, BalancingConfig balancing, WeightInit init, RowSlice localHeads)
        : base((int)localHeads.Count, moe, balancing, init, (int)localHeads.Start, labelGroups: true)
    {
        NumHeads = heads.NumHeads;
        HeadDim = heads.ResolveHeadDim(dModel);
        var width = (long)NumHeads * HeadDim;
        WIn = RegisterParameter("w_in", init.Normal(width, dModel));
        Router = RegisterParameter("router", init.Normal([NumHeads, moe.NumExperts, HeadDim], localHeads));
        Experts = RegisterModule("experts",
            new ExpertBank([NumHeads, moe.NumExperts], HeadDim, moe.ExpertDim, moe.Activation, scaledOutput: false, init, localHeads, moe.Kernels));
        WOut = RegisterParameter("w_out", init.OutputProjection(dModel, width));
        PartialTensors = ExpertTensors(Experts, "router", "balancing_bias");
    }

    /// <summary>N_h of the whole layer.</summary>
    public int NumHeads { get; }

    /// <summary>The heads held here: all, or this rank's part under head parallelism.</summary>
    public RowSlice LocalHeads => Experts.Slice;

    public override IReadOnlyDictionary<string, RowSlice> PartialTensors { get; }

    /// <summary>How sub-tokens reach the ranks that own their heads; required when the layer holds only some heads.</summary>
    public IHeadExchange? HeadExchange { get; set; }

    /// <summary>d_h</summary>
    public int HeadDim { get; }

    /// <summary>(N_h · d_h, d); rows [h d_h, (h+1) d_h) make head h's sub-token.</summary>
    public Parameter WIn { get; }

    /// <summary>(H, N_e, d_h), H the heads held here</summary>
    public Parameter Router { get; }

    /// <summary>Weights (H, N_e, d_e, d_h) and (H, N_e, d_h, d_e).</summary>
    public ExpertBank Experts { get; }

    /// <summary>(d, N_h · d_h)</summary>
    public Parameter WOut { get; }

    /// <summary>(N, d) -> (N, d)</summary>
    public override FfnOutput Forward(Tensor x)
    {
        if (HeadExchange is null && !LocalHeads.IsWhole)
            throw new InvalidOperationException(
                $"this layer holds heads [{LocalHeads.Start}, {LocalHeads.Start + LocalHeads.Count}) of {NumHeads}; a head exchange must be installed before the forward pass");
        using var scope = DisposeScope.Begin();
        var n = x.Size(0);
        var subTokens = Functional.Linear(x, WIn)                                      // (N, N_h · d_h)
            .View(n, NumHeads, HeadDim).Transpose(0, 1).Contiguous();                  // (N_h, N, d_h)
        var local = HeadExchange?.ToHeadOwners(subTokens) ?? subTokens;                // (H, M, d_h); M = P·N tokens of every rank
        var m = local.Size(1);
        var routed = Route(local, Router);                                             // H groups: (H, M, d_h), (H, N_e, d_h)
        var rows = local.View(Groups * m, HeadDim);                                    // (H · M, d_h)
        var mixed = Experts.Apply(rows, routed.ExpertIds, routed.Gates, routed.Counts, routed.Order)   // (H · M, d_h)
            .View(Groups, m, HeadDim);                                                 // (H, M, d_h)
        var back = HeadExchange?.ToTokenOwners(mixed) ?? mixed;                        // (N_h, N, d_h)
        var merged = back.Transpose(0, 1)                                              // (N, N_h, d_h)
            .Reshape(n, NumHeads * HeadDim);                                           // (N, N_h · d_h), heads concatenated
        var output = Functional.Linear(merged, WOut);                                  // (N, d)
        return new FfnOutput(scope.MoveToOuter(output), routed.AuxLoss is { } aux ? scope.MoveToOuter(aux) : null);
    }
}
