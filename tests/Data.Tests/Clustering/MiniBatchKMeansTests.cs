using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Tests.Clustering;

public class MiniBatchKMeansTests
{
    [Fact]
    public void RecoversGaussianClustersFromBatches()
    {
        using var scope = DisposeScope.Begin();
        var (points, labels) = KMeansTests.Blobs(perCluster: 400, clusters: 5, dims: 8, seed: 9);
        var options = new KMeansOptions { Clusters = 5, Seed = 4 };
        using var result = MiniBatchKMeans.Fit(() => points.Split(256), options, maxPasses: 10);
        Assert.Equal(2000, result.Assignments.Length);
        var ari = ClusteringMetrics.AdjustedRandIndex(result.Assignments, labels);
        Assert.True(ari >= 0.95, $"adjusted Rand index {ari:F3}");

        using var again = MiniBatchKMeans.Fit(() => points.Split(256), options, maxPasses: 10);
        Assert.Equal(result.Assignments, again.Assignments);
        Assert.True(result.Centroids.Equal(again.Centroids));
    }

    [Fact]
    public void CentroidsAreTheRunningMeansOfTheirPoints()
    {
        using var scope = DisposeScope.Begin();
        var (points, _) = KMeansTests.Blobs(perCluster: 300, clusters: 3, dims: 4, seed: 10);
        using var result = MiniBatchKMeans.Fit(() => points.Split(100), new KMeansOptions { Clusters = 3, Seed = 1 }, maxPasses: 20);
        // At convergence each centroid is close to the plain mean of the points assigned to it.
        using var full = KMeans.Fit(points, new KMeansOptions { Clusters = 3, Seed = 1 });
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex(result.Assignments, full.Assignments), 6);
        Assert.InRange(result.Inertia, full.Inertia * 0.999, full.Inertia * 1.01);
    }
}
