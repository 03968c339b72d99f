using Orleans.MoE.Data.Clustering;

namespace Orleans.MoE.Data.Tests.Clustering;

public class ClusteringMetricsTests
{
    [Fact]
    public void IdenticalPartitionsUnderRenamingScoreOne()
    {
        long[] clusters = [2, 2, 0, 0, 1, 1];
        string[] labels = ["a", "a", "b", "b", "c", "c"];
        Assert.Equal(1.0, ClusteringMetrics.NormalizedMutualInformation(clusters, labels), 12);
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex(clusters, labels), 12);
        Assert.Equal(1.0, ClusteringMetrics.Purity(clusters, labels), 12);
    }

    [Fact]
    public void MatchesHandComputedValues()
    {
        // Contingency: cluster 0 = {a, a, b}, cluster 1 = {b, b, b}; n = 6.
        long[] clusters = [0, 0, 0, 1, 1, 1];
        string[] labels = ["a", "a", "b", "b", "b", "b"];
        Assert.Equal(5.0 / 6, ClusteringMetrics.Purity(clusters, labels), 12);

        // I = 2/6 ln(2·6/(3·2)) + 1/6 ln(1·6/(3·4)) + 3/6 ln(3·6/(3·4)); H(U) = ln 2; H(V) = -(1/3 ln 1/3 + 2/3 ln 2/3).
        var mutual = 2.0 / 6 * Math.Log(2) + 1.0 / 6 * Math.Log(0.5) + 3.0 / 6 * Math.Log(1.5);
        var hU = Math.Log(2);
        var hV = -(1.0 / 3 * Math.Log(1.0 / 3) + 2.0 / 3 * Math.Log(2.0 / 3));
        Assert.Equal(mutual / ((hU + hV) / 2), ClusteringMetrics.NormalizedMutualInformation(clusters, labels), 12);

        // Pairs: cells C(2,2)+C(1,2)+C(3,2) = 1+0+3 = 4; clusters 3+3 = 6; labels C(2,2)+C(4,2) = 1+6 = 7; total C(6,2) = 15.
        var expected = 6.0 * 7 / 15;
        Assert.Equal((4 - expected) / ((6 + 7) / 2.0 - expected), ClusteringMetrics.AdjustedRandIndex(clusters, labels), 12);
    }
}
