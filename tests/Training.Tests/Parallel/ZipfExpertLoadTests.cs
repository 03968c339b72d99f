using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Tests.Parallel;

public sealed class ZipfExpertLoadTests
{
    /// <summary>The paper's shares (reference §10.4): 768 experts, 192 per rank on 4 ranks, one expert per token.</summary>
    [Theory]
    [InlineData(768, 0, 0.2500)]
    [InlineData(768, 1, 0.8083)]
    [InlineData(768, 2, 0.9976)]
    [InlineData(384, 1, 0.788)]
    [InlineData(384, 2, 0.995)]
    [InlineData(128, 1, 0.747)]
    [InlineData(128, 2, 0.986)]
    public void RankZeroGetsThePapersShareOfTokens(int experts, double skew, double share)
    {
        var shares = ZipfExpertLoad.RankShares(experts, 4, skew);
        var digits = share.ToString(System.Globalization.CultureInfo.InvariantCulture).Length - 2;
        Assert.Equal(share, Math.Round(shares[0], digits), 10);
        Assert.Equal(1.0, shares.Sum(), 9);
        Assert.True(shares.Zip(shares.Skip(1)).All(p => p.First >= p.Second), "a rank with more popular experts must not get less");
    }

    /// <summary>
    /// k distinct picks, drawn one after another from the weights left: the inclusion probabilities
    /// against exact enumeration of every ordered pick sequence (5 experts).
    /// </summary>
    [Theory]
    [InlineData(1.0, 2)]
    [InlineData(2.0, 3)]
    [InlineData(0.5, 4)]
    public void InclusionProbabilitiesMatchEnumerationOfEveryPickOrder(double skew, int k)
    {
        var p = ZipfExpertLoad.ExpertProbabilities(5, skew);
        var expected = new double[p.Length];
        void Enumerate(List<int> picked, double probability)
        {
            if (picked.Count == k)
            {
                foreach (var e in picked) expected[e] += probability;
                return;
            }
            var left = 1 - picked.Sum(e => p[e]);
            for (var e = 0; e < p.Length; e++)
                if (!picked.Contains(e)) Enumerate([.. picked, e], probability * p[e] / left);
        }
        Enumerate([], 1);

        var actual = ZipfExpertLoad.InclusionProbabilities(p, k);
        for (var e = 0; e < p.Length; e++) Assert.Equal(expected[e], actual[e], 6);
    }

    [Fact]
    public void MorePicksPerTokenSpreadTheLoadAndTheSharesStayADistribution()
    {
        var one = ZipfExpertLoad.RankShares(768, 4, 1, topK: 1);
        var four = ZipfExpertLoad.RankShares(768, 4, 1, topK: 4);
        Assert.Equal(1.0, four.Sum(), 6);
        Assert.True(four[0] < one[0], $"k = 4 cannot pick the top expert twice, so rank 0's share ({four[0]}) must fall below k = 1's ({one[0]})");
        Assert.All(ZipfExpertLoad.RankShares(768, 4, 0, topK: 4), s => Assert.Equal(0.25, s, 6));
    }

    /// <summary>
    /// The sampler's picks are distinct and their frequencies are the inclusion probabilities: with
    /// 100000 tokens each frequency has standard deviation at most sqrt(π(1 - π) / 100000) ≤ 0.0016, and
    /// the tolerance is 5 of those.
    /// </summary>
    [Fact]
    public void SampledPicksAreDistinctWithTheModelledFrequencies()
    {
        const int tokens = 100_000, k = 3;
        var p = ZipfExpertLoad.ExpertProbabilities(6, 1.5);
        var ids = ZipfExpertSampler.Draw(new Random(5), p, tokens, k);
        for (var t = 0; t < tokens; t++) Assert.Equal(k, ids.Skip(t * k).Take(k).Distinct().Count());
        var expected = ZipfExpertLoad.InclusionProbabilities(p, k);
        for (var e = 0; e < p.Length; e++)
        {
            var frequency = ids.Count(id => id == e) / (double)tokens;
            Assert.True(Math.Abs(frequency - expected[e]) <= 5 * Math.Sqrt(expected[e] * (1 - expected[e]) / tokens),
                $"expert {e}: picked by {frequency:F4} of the tokens, modelled {expected[e]:F4}");
        }
    }

    [Fact]
    public void ExpertsThatDoNotSplitEvenlyOverTheRanksAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => ZipfExpertLoad.RankShares(10, 4, 1));
        Assert.Contains("10 experts", error.Message);
    }
}
