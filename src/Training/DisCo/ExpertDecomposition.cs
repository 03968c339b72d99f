using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// MoE-DisCo's model decoupling: from one MoE (its config and its shared initialisation), the dense
/// submodel of expert k = the whole shared backbone + expert k in every MoE layer, without a gate.
/// <para>
/// A submodel is the same architecture with one expert and top-1 routing: the softmax over a single
/// selected logit is the constant 1, so the layer computes exactly backbone + expert k, the router
/// receives no gradient, and the balancing bias has nothing to balance (its rate is set to 0). This
/// keeps one model implementation for both phases and makes a submodel's state a slice of the MoE's.
/// Multi-Head LatentMoE is refused: its heads need k >= 2 (a single selected expert would leave the
/// router without gradient, which is exactly what a submodel is).
/// </para>
/// </summary>
public static class ExpertDecomposition
{
    /// <summary>The configuration of every submodel of the given MoE.</summary>
    public static ModelConfig SubmodelConfig(ModelConfig moe)
    {
        var ffn = moe.Layers.Ffn;
        if (ffn.Kind is not (FfnKind.Moe or FfnKind.LatentMoe))
            throw new ArgumentException(
                $"layers.ffn.kind: MoE-DisCo decomposes 'moe' and 'latent_moe' models, not {ffn.Kind} " +
                "(Multi-Head LatentMoE needs top_k >= 2 per head, so it has no single-expert submodel)");
        if (moe.Layers.FirstDense >= moe.NumLayers)
            throw new ArgumentException("layers.first_dense: every layer is dense, so there are no experts to decompose");
        return moe with
        {
            Layers = moe.Layers with { Ffn = ffn with { Moe = ffn.Moe! with { NumExperts = 1, TopK = 1 } } },
            Balancing = moe.Balancing with { BiasUpdateRate = 0, AuxLossWeight = 0, ZLossWeight = 0 },
        };
    }

    /// <summary>
    /// The state of submodel <paramref name="expert"/>: shared tensors copied, expert and router
    /// tensors sliced to slot <paramref name="expert"/>, balancing bias zero. The caller owns the result.
    /// </summary>
    public static Dictionary<string, Tensor> SubmodelState(ModelConfig moe, IReadOnlyDictionary<string, Tensor> moeState, int expert)
    {
        var experts = moe.Layers.Ffn.Moe?.NumExperts ?? 0;
        if (expert < 0 || expert >= experts)
            throw new ArgumentOutOfRangeException(nameof(expert), expert, $"the MoE has {experts} experts");
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var noGrad = GradMode.NoGrad();
        foreach (var (name, tensor) in moeState)
        {
            state[name] = (ExpertSlots.Of(moe, name) switch
            {
                SlotKind.Shared => tensor.Detach().Clone(),
                SlotKind.Expert or SlotKind.Router => tensor.Detach().Narrow(0, expert, 1).Clone(),  // (1, ...)
                SlotKind.BalancingBias => Tensor.Zeros([1, 1], tensor.Dtype, tensor.Device),
                _ => throw new InvalidOperationException(name),
            }).DetachFromScope();
        }
        return state;
    }
}
