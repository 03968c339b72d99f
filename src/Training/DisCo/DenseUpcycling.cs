using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// Sparse upcycling of one dense submodel: its expert is copied into every expert slot and its
/// backbone becomes the MoE's backbone. It is DisCo's integration with the same submodel in all E
/// places, so the control differs from DisCo only in what the submodels were trained on: every slot
/// holds the dense submodel's expert bit for bit, and the average of E identical backbones is that
/// backbone exactly (see <see cref="ExpertIntegration"/>'s averaging).
/// </summary>
public static class DenseUpcycling
{
    /// <param name="moe">the MoE's configuration (the one the dense submodel was decomposed from)</param>
    /// <param name="dense">the dense submodel's state (<see cref="ExpertDecomposition.SubmodelConfig"/>)</param>
    /// <param name="routerSource">as for <see cref="ExpertIntegration.Integrate"/>: the MoE's initial router, or null for the dense submodel's router row repeated E times</param>
    /// <returns>the MoE's state; the caller owns it</returns>
    public static Dictionary<string, Tensor> Upcycle(ModelConfig moe, IReadOnlyDictionary<string, Tensor> dense,
        IReadOnlyDictionary<string, Tensor>? routerSource)
    {
        var experts = moe.Layers.Ffn.Moe?.NumExperts ?? 0;
        if (experts < 1) throw new ArgumentException("the model has no experts to upcycle into", nameof(moe));
        return ExpertIntegration.Integrate(moe, Enumerable.Repeat(dense, experts).ToList(), weights: null, routerSource);
    }
}
