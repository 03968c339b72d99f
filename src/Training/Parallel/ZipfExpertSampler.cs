namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// Draws Zipf-skewed routings for the imbalance experiment: every token picks k distinct experts, one
/// after another in proportion to the weights of those not yet picked (the model
/// <see cref="ZipfExpertLoad"/> computes the expected load of). Drawn as the k first of independent
/// exponential clocks T_e = -ln(U) / p_e, which is the same distribution.
/// </summary>
public static class ZipfExpertSampler
{
    /// <summary>(tokens · k) expert ids, token-major, each token's k distinct and in the order picked.</summary>
    public static long[] Draw(Random random, double[] probabilities, int tokens, int topK)
    {
        var n = probabilities.Length;
        if (topK < 1 || topK > n) throw new ArgumentOutOfRangeException(nameof(topK), topK, $"k must be in 1..{n}");
        var ids = new long[(long)tokens * topK];
        var best = new (double Time, int Expert)[topK];
        for (var token = 0; token < tokens; token++)
        {
            var filled = 0;
            for (var e = 0; e < n; e++)
            {
                var time = -Math.Log(1 - random.NextDouble()) / probabilities[e];
                if (filled == topK && time >= best[topK - 1].Time) continue;
                // Insert into the sorted list of the k earliest clocks.
                var i = filled < topK ? filled++ : topK - 1;
                while (i > 0 && best[i - 1].Time > time)
                {
                    best[i] = best[i - 1];
                    i--;
                }
                best[i] = (time, e);
            }
            for (var j = 0; j < topK; j++) ids[(long)token * topK + j] = best[j].Expert;
        }
        return ids;
    }
}
