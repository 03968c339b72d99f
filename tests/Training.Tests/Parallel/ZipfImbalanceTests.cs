using Orleans.MoE.Training.Parallel;
using Xunit.Abstractions;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// The paper's imbalance experiment across 4 processes: 2048 tokens per rank pick k = 4 distinct of 768
/// experts from a Zipf distribution of skew 0, 1, 2, through the real expert-parallel dispatch and the
/// real head-parallel exchange.
/// <para>
/// Expert parallel: each rank's share of the received copies is compared with
/// <see cref="ZipfExpertLoad.RankShares"/>. A token's count X of copies landing on a rank lies in
/// [0, k], so Var(X / k) ≤ s(1 - s) for a mean share s (Bhatia-Davis), and over N = 8192 independent
/// tokens the measured share has standard deviation at most sqrt(s(1 - s) / N) ≤ 0.0055; the tolerance
/// is 5 of those (plus 1e-4 for skew 2's near-0 shares), a chance of failure below 1e-6 for a correct
/// dispatch while the skews differ by 0.3 and more.
/// </para>
/// <para>Head parallel: every rank receives exactly n·d·b bytes, its 1/P share, whatever the skew.</para>
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ZipfImbalanceTests(ITestOutputHelper output)
{
    private const int Ranks = 4;

    [Fact]
    public void ExpertParallelLoadFollowsTheSkewAndHeadParallelLoadStaysEven()
    {
        var reports = ParallelRuns.Zipf();
        var first = reports[0];
        var tokens = (double)first.TokensPerRank * Ranks;
        output.WriteLine($"copies received per rank ({first.Experts} experts, k = {first.TopK}, {first.TokensPerRank} tokens per rank, P = {Ranks})");
        output.WriteLine("skew  EP rank 0..3 (measured)            EP rank 0 share: measured  analytic  k=1   HP per rank (d-wide)");
        for (var s = 0; s < first.Skews.Count; s++)
        {
            var skew = first.Skews[s].Skew;
            var received = reports.Select(r => r.Skews[s].ExpertReceivedCopies).ToArray();
            Assert.Equal((long)tokens * first.TopK, received.Sum());
            var expected = ZipfExpertLoad.RankShares(first.Experts, Ranks, skew, first.TopK);
            for (var r = 0; r < Ranks; r++)
            {
                var share = received[r] / (tokens * first.TopK);
                var tolerance = 5 * Math.Sqrt(expected[r] * (1 - expected[r]) / tokens) + 1e-4;
                Assert.True(Math.Abs(share - expected[r]) <= tolerance,
                    $"skew {skew} rank {r}: measured share {share:F4}, analytic {expected[r]:F4} (tolerance {tolerance:F4})");
            }

            // Head parallel: n·d·b received per rank and direction, the same on every rank and for every skew.
            var headBytes = (long)first.TokensPerRank * first.DModel * sizeof(float);
            foreach (var report in reports)
            {
                var head = report.Skews[s].HeadDispatch;
                Assert.Equal(headBytes, head.BytesReceived);
                Assert.Equal(headBytes, head.BytesSent);
                Assert.Equal(0, head.BackwardCalls);
                Assert.Equal((long)first.Heads / Ranks * Ranks * first.TokensPerRank * first.TopK, report.Skews[s].HeadAssignments);
            }
            var paper = ZipfExpertLoad.RankShares(first.Experts, Ranks, skew)[0];
            output.WriteLine($"{skew,4}  {string.Join(" ", received.Select(x => $"{x,6}")),-32} {received[0] / (tokens * first.TopK),26:P1} {expected[0],9:P1} {paper,5:P1}   {first.TokensPerRank} each");
        }
        var rankZero = reports[0].Skews.Select(x => x.ExpertReceivedCopies).ToArray();
        Assert.True(rankZero[0] < rankZero[1] && rankZero[1] < rankZero[2], "rank 0 must receive more copies as the skew grows");
    }
}
