using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// MoE-DisCo's reintegration: submodel k's expert tensors go to slot k (its global expert id), the
/// E copies of the shared backbone are averaged (uniformly, or weighted, e.g. by cluster tokens), and
/// the router comes from a given state: the MoE's own initialisation (the paper's "fresh" router) or
/// any other router of the right shape, or, without one, the submodels' single-expert router rows
/// stacked in expert order. The balancing bias starts at zero.
/// </summary>
public static class ExpertIntegration
{
    /// <param name="moe">the integrated MoE's configuration (the one the submodels were decomposed from)</param>
    /// <param name="submodels">submodel k's state at index k</param>
    /// <param name="weights">averaging weight per submodel (normalised here); null for the uniform mean</param>
    /// <param name="routerSource">a state holding the MoE's router tensors, (N_e, d) per routed layer; null stacks the submodels' rows</param>
    public static Dictionary<string, Tensor> Integrate(ModelConfig moe, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> submodels,
        IReadOnlyList<double>? weights, IReadOnlyDictionary<string, Tensor>? routerSource)
    {
        var experts = moe.Layers.Ffn.Moe?.NumExperts ?? 0;
        if (submodels.Count != experts)
            throw new ArgumentException($"the MoE has {experts} experts but {submodels.Count} submodels were given", nameof(submodels));
        var w = NormalisedWeights(weights, submodels.Count);

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var noGrad = GradMode.NoGrad();
        foreach (var name in submodels[0].Keys)
        {
            var copies = submodels.Select((s, k) => s.TryGetValue(name, out var t)
                ? t
                : throw new ArgumentException($"submodel {k} has no tensor '{name}'", nameof(submodels))).ToList();
            using var scope = DisposeScope.Begin();
            var merged = ExpertSlots.Of(moe, name) switch
            {
                SlotKind.Shared => Average(copies, w),
                SlotKind.Expert => Tensor.Cat(copies, 0),                                   // (N_e, ...), slot k = submodel k
                SlotKind.Router when routerSource is null => Tensor.Cat(copies, 0),               // (N_e, d)
                SlotKind.Router => routerSource.TryGetValue(name, out var router)
                    ? router.Detach().Clone()
                    : throw new ArgumentException($"the router source has no tensor '{name}'", nameof(routerSource)),
                SlotKind.BalancingBias => Tensor.Zeros([1, experts], copies[0].Dtype, copies[0].Device),
                _ => throw new InvalidOperationException(name),
            };
            state[name] = scope.MoveToOuter(merged).DetachFromScope();
        }
        return state;
    }

    /// <summary>
    /// Σ_k w_k x_k, computed as x_0 + Σ_k w_k (x_k - x_0): the same mean, but exactly x_0 when every
    /// copy is equal (as right after decomposition), whatever the rounding of the weights.
    /// </summary>
    private static Tensor Average(IReadOnlyList<Tensor> copies, double[] weights)
    {
        var first = copies[0].Detach();
        var sum = first.Clone();
        for (var k = 1; k < copies.Count; k++)
        {
            // The same tensor again (dense upcycling) adds exactly zero; skipping it also keeps the bits of -0.0.
            if (ReferenceEquals(copies[k], copies[0])) continue;
            sum = sum + (copies[k].Detach() - first) * weights[k];
        }
        return sum;
    }

    private static double[] NormalisedWeights(IReadOnlyList<double>? weights, int count)
    {
        if (weights is null) return Enumerable.Repeat(1.0 / count, count).ToArray();
        if (weights.Count != count) throw new ArgumentException($"{weights.Count} averaging weights for {count} submodels", nameof(weights));
        if (weights.Any(x => !(x >= 0)) || weights.Sum() <= 0)
            throw new ArgumentException("averaging weights must be non-negative and not all zero", nameof(weights));
        var total = weights.Sum();
        return weights.Select(x => x / total).ToArray();
    }
}
