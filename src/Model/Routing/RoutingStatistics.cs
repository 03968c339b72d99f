using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// The expert load of one routed layer, counted on the host over every micro-batch since the last
/// optimizer step, so that the balancing bias sees the load of the whole global batch ("global"
/// balancing). A data-parallel trainer sums <see cref="Counts"/> across its replicas before the update;
/// under head parallelism each rank already sees all tokens of its heads and must not.
/// </summary>
public sealed class RoutingStatistics
{
    private readonly long[] _counts;
    private readonly double[] _routerEntropySum;

    public RoutingStatistics(int groups, int numExperts, int topK)
    {
        Groups = groups;
        NumExperts = numExperts;
        TopK = topK;
        _counts = new long[groups * numExperts];
        _routerEntropySum = new double[groups];
    }

    public int Groups { get; }

    public int NumExperts { get; }

    public int TopK { get; }

    /// <summary>(G·N_e) assignments per expert, row-major over (group, expert). Writable, for cross-replica sums.</summary>
    public Span<long> Counts => _counts;

    /// <summary>Tokens routed per group since the last reset (each made k assignments).</summary>
    public long Tokens { get; set; }

    /// <summary>Tokens whose router entropy was summed (0 unless entropy tracking is on).</summary>
    public long EntropyTokens { get; private set; }

    internal void Add(long[] counts, long tokens)
    {
        for (var i = 0; i < _counts.Length; i++) _counts[i] += counts[i];
        Tokens += tokens;
    }

    /// <summary>Adds the per-token entropy of softmax(logits) over all experts, logits (G, n, N_e).</summary>
    internal void AddRouterEntropy(Tensor logits)
    {
        using var scope = DisposeScope.Begin();
        using var noGrad = GradMode.NoGrad();
        var logProbabilities = logits.LogSoftmax(-1);                                 // (G, n, N_e)
        var entropy = -(logProbabilities.Exp() * logProbabilities).Sum(-1).Sum(1);    // (G)
        var sums = entropy.To(ScalarType.Float64).ToArray<double>();
        for (var g = 0; g < Groups; g++) _routerEntropySum[g] += sums[g];
        EntropyTokens += logits.Size(1);
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Array.Clear(_routerEntropySum);
        Tokens = 0;
        EntropyTokens = 0;
    }

    /// <summary>
    /// The auxiliary-loss-free update, per group: with load_e the share of assignments expert e received,
    /// u_e = sign(mean(load) - load_e), re-centred to zero mean (which leaves the top-k unchanged while
    /// keeping the bias from drifting), and bias_e += rate · u_e. <paramref name="bias"/> is (G·N_e).
    /// </summary>
    public void ApplyBiasUpdate(Span<float> bias, double rate)
    {
        var u = new double[NumExperts];
        for (var g = 0; g < Groups; g++)
        {
            var counts = _counts.AsSpan(g * NumExperts, NumExperts);
            double total = 0;
            foreach (var c in counts) total += c;
            if (total == 0) continue;
            var meanLoad = 1.0 / NumExperts;
            double meanU = 0;
            for (var e = 0; e < NumExperts; e++)
            {
                u[e] = Math.Sign(meanLoad - counts[e] / total);
                meanU += u[e];
            }
            meanU /= NumExperts;
            for (var e = 0; e < NumExperts; e++) bias[g * NumExperts + e] = (float)(bias[g * NumExperts + e] + rate * (u[e] - meanU));
        }
    }

    /// <summary>
    /// One metrics record per group; <paramref name="layer"/> labels them, and groups are labelled as
    /// heads firstHead, firstHead + 1, ... (null: unlabelled when there is one group, from 0 otherwise).
    /// </summary>
    public IReadOnlyList<RoutingMetrics> Metrics(int layer, int? firstHead = null)
    {
        var result = new RoutingMetrics[Groups];
        for (var g = 0; g < Groups; g++)
        {
            var counts = _counts.AsSpan(g * NumExperts, NumExperts).ToArray();
            double? routerEntropy = EntropyTokens > 0 ? _routerEntropySum[g] / EntropyTokens : null;
            int? head = firstHead is { } first ? first + g : Groups > 1 ? g : null;
            result[g] = RoutingMetrics.FromCounts(layer, head, counts, Tokens, routerEntropy);
        }
        return result;
    }
}
