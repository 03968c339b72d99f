namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// Draws Zipf-skewed routings for the imbalance experiment: every token picks k distinct experts, one
/// after another in proportion to the weights of those not yet picked (the model
/// <see cref="ZipfExpertLoad"/> computes the expected load of). Each pick draws from all the weights by
/// inverse CDF and draws again when the expert is already taken, which gives exactly the weights of
/// the experts left.
/// </summary>
public static class ZipfExpertSampler
{
    /// <summary>(tokens · k) expert ids, token-major, each token's k distinct and in the order picked.</summary>
    public static long[] Draw(Random random, double[] probabilities, int tokens, int topK)
    {
        var n = probabilities.Length;
        if (topK < 1 || topK > n) throw new ArgumentOutOfRangeException(nameof(topK), topK, $"k must be in 1..{n}");
        var cumulative = new double[n];
        double total = 0;
        for (var e = 0; e < n; e++) cumulative[e] = total += probabilities[e];
        var ids = new long[(long)tokens * topK];
        var picked = new int[topK];
        for (var token = 0; token < tokens; token++)
        {
            for (var j = 0; j < topK; j++)
            {
                int expert;
                do
                {
                    var index = Array.BinarySearch(cumulative, random.NextDouble() * total);
                    expert = Math.Min(index >= 0 ? index + 1 : ~index, n - 1);   // the first e with cumulative[e] > u
                }
                while (picked.AsSpan(0, j).Contains(expert));
                picked[j] = expert;
                ids[(long)token * topK + j] = expert;
            }
        }
        return ids;
    }
}
