namespace Orleans.MoE.Model.Routing;

/// <summary>
/// Expert load of one routing group (a layer, or one head of a Multi-Head LatentMoE layer) over the
/// tokens counted since the last reset.
/// </summary>
/// <param name="Layer">transformer layer index</param>
/// <param name="Head">head index for Multi-Head LatentMoE layers, null for single-router layers</param>
/// <param name="TokensPerExpert">assignments per expert (a token routed to k experts counts once for each)</param>
/// <param name="Tokens">tokens (sub-tokens, per head) routed</param>
/// <param name="MaxOverMean">largest expert load over the mean load (1 = perfectly balanced)</param>
/// <param name="CoefficientOfVariation">standard deviation of the loads over their mean (0 = perfectly balanced)</param>
/// <param name="LoadEntropy">entropy, in nats, of the share of assignments each expert received</param>
/// <param name="NormalizedLoadEntropy">LoadEntropy / ln(N_e): 1 = uniform, 0 = one expert takes all</param>
/// <param name="RouterEntropy">mean per-token entropy of the router's softmax over all experts, when tracked</param>
public sealed record RoutingMetrics(
    int Layer,
    int? Head,
    long[] TokensPerExpert,
    long Tokens,
    double MaxOverMean,
    double CoefficientOfVariation,
    double LoadEntropy,
    double NormalizedLoadEntropy,
    double? RouterEntropy)
{
    public static RoutingMetrics FromCounts(int layer, int? head, long[] counts, long tokens, double? routerEntropy = null)
    {
        var n = counts.Length;
        double total = counts.Sum();
        if (total == 0) return new RoutingMetrics(layer, head, counts, tokens, double.NaN, double.NaN, double.NaN, double.NaN, routerEntropy);
        var mean = total / n;
        var variance = counts.Sum(c => (c - mean) * (c - mean)) / n;
        double entropy = 0;
        foreach (var c in counts)
        {
            if (c > 0) entropy -= c / total * Math.Log(c / total);
        }
        return new RoutingMetrics(layer, head, counts, tokens,
            MaxOverMean: counts.Max() / mean,
            CoefficientOfVariation: Math.Sqrt(variance) / mean,
            LoadEntropy: entropy,
            NormalizedLoadEntropy: n > 1 ? entropy / Math.Log(n) : 1.0,
            RouterEntropy: routerEntropy);
    }
}
