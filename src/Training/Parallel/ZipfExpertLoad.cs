namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// The expert-parallel load that a Zipf-skewed routing puts on each rank (the paper's imbalance
/// experiment, Fig. 3): expert e is chosen with weight p(e) ∝ (e + 1)^-skew, every token picks k
/// distinct experts (drawn one after another from the weights of those not yet picked, which is
/// what top-k of noisy logits does), and rank r owns experts [r N_e / P, (r + 1) N_e / P).
/// <para>
/// With k = 1 a rank's share is the Zipf mass of its experts: 768 experts on 4 ranks give 25.0%,
/// 80.8% and 99.8% of the tokens to rank 0 for skew 0, 1 and 2. Head parallelism's share is 1/P
/// whatever the skew: its exchange does not depend on the routing.
/// </para>
/// </summary>
public static class ZipfExpertLoad
{
    /// <summary>p(e) ∝ (e + 1)^-skew over <paramref name="numExperts"/> experts, summing to 1.</summary>
    public static double[] ExpertProbabilities(int numExperts, double skew)
    {
        if (numExperts < 1) throw new ArgumentOutOfRangeException(nameof(numExperts), numExperts, "there must be at least one expert");
        if (skew < 0) throw new ArgumentOutOfRangeException(nameof(skew), skew, "the Zipf skew must be 0 or more");
        var weights = new double[numExperts];
        for (var e = 0; e < numExperts; e++) weights[e] = Math.Pow(e + 1, -skew);
        var total = weights.Sum();
        for (var e = 0; e < numExperts; e++) weights[e] /= total;
        return weights;
    }

    /// <summary>
    /// The expected share of all token-expert assignments that each of <paramref name="ranks"/> ranks
    /// receives under expert parallelism (they sum to 1): the mean over its experts of their inclusion
    /// probabilities in a token's k distinct picks, divided by k.
    /// </summary>
    public static double[] RankShares(int numExperts, int ranks, double skew, int topK = 1)
    {
        if (ranks < 1 || numExperts % ranks != 0)
            throw new ArgumentException($"{numExperts} experts cannot be placed evenly on {ranks} ranks; choose a number of ranks that divides the experts", nameof(ranks));
        var inclusion = InclusionProbabilities(ExpertProbabilities(numExperts, skew), topK);
        var perRank = numExperts / ranks;
        var shares = new double[ranks];
        for (var e = 0; e < numExperts; e++) shares[e / perRank] += inclusion[e] / topK;
        return shares;
    }

    /// <summary>
    /// π_e, the probability that expert e is among a token's k picks (Σ π_e = k), for picks drawn one
    /// at a time in proportion to the weights <paramref name="p"/> of the experts left.
    /// <para>
    /// Such picks are the k first of independent exponential clocks T_e ~ Exp(p_e), so
    /// π_e = ∫ p_e e^(-p_e t) · P(fewer than k other clocks rang by t) dt. The count of other clocks
    /// that rang is a sum of independent Bernoulli(1 - e^(-p_j t)), whose first k probabilities come
    /// from prefix and suffix products over the experts; the integral runs over u = ln t with the
    /// trapezoid rule, which converges geometrically here because the integrand is smooth and decays
    /// exponentially at both ends.
    /// </para>
    /// </summary>
    public static double[] InclusionProbabilities(double[] p, int topK)
    {
        var n = p.Length;
        if (topK < 1 || topK > n) throw new ArgumentOutOfRangeException(nameof(topK), topK, $"k must be in 1..{n}");
        if (topK == 1) return (double[])p.Clone();     // the first pick is p itself
        if (topK == n) return Enumerable.Repeat(1.0, n).ToArray();
        // Below t = 1e-15 / max p the integrand is under 1e-15 per unit of u; above 60 / min p under e^-60.
        const double step = 0.02;
        double uLow = Math.Log(1e-15 / p.Max()), uHigh = Math.Log(60 / p.Min());
        var inclusion = new double[n];
        var rang = new double[n];                   // P(T_e <= t)
        var prefix = new double[(n + 1) * topK];   // prefix[i, c]: P(c of experts 0..i-1 rang)
        var suffix = new double[(n + 1) * topK];   // suffix[i, c]: P(c of experts i..n-1 rang)
        for (var u = uLow; u <= uHigh; u += step)
        {
            var t = Math.Exp(u);
            for (var e = 0; e < n; e++)
            {
                var x = p[e] * t;
                rang[e] = x < 1e-6 ? x - x * x / 2 : 1 - Math.Exp(-x);
            }
            Accumulate(prefix, 0, 1, rang, topK);
            Accumulate(suffix, n, -1, rang, topK);
            for (var e = 0; e < n; e++)
            {
                double fewer = 0;                          // P(at most k - 1 of the others rang)
                for (var a = 0; a < topK; a++)
                    for (var b = 0; a + b < topK; b++) fewer += prefix[e * topK + a] * suffix[(e + 1) * topK + b];
                var x = p[e] * t;
                inclusion[e] += step * x * (1 - rang[e]) * fewer;   // p_e e^(-p_e t) dt with dt = t du
            }
        }
        return inclusion;
    }

    /// <summary>
    /// The distribution (counts 0..k-1) of how many clocks rang by time t, over experts taken from
    /// <paramref name="start"/> in <paramref name="direction"/>: row start is "none taken".
    /// </summary>
    private static void Accumulate(double[] table, int start, int direction, double[] rang, int k)
    {
        var n = rang.Length;
        Array.Clear(table, start * k, k);
        table[start * k] = 1;
        for (var step = 0; step < n; step++)
        {
            var from = start + step * direction;
            var to = from + direction;
            var q = rang[direction > 0 ? from : to];
            for (var c = k - 1; c >= 0; c--)
                table[to * k + c] = table[from * k + c] * (1 - q) + (c > 0 ? table[from * k + c - 1] * q : 0);
        }
    }
}
