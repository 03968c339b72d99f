using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Tests.Clustering;

public class KMeansTests
{
    /// <summary>Well-separated Gaussian blobs: K centres drawn in a box of side 20, unit spread, shuffled order.</summary>
    internal static (Tensor Points, long[] Labels) Blobs(int perCluster, int clusters, int dims, int seed, double spread = 1.0)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dims).Select(_ => random.NextDouble() * 20 - 10).ToArray()).ToArray();
        var n = perCluster * clusters;
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var data = new float[n * dims];
        var labels = new long[n];
        for (var i = 0; i < n; i++)
        {
            var label = order[i] % clusters;
            labels[i] = label;
            for (var j = 0; j < dims; j++) data[i * dims + j] = (float)(centres[label][j] + spread * Normal());
        }
        return (Tensor.FromArray(data, n, dims), labels);
    }

    [Theory]
    [InlineData(KMeansMetric.Euclidean)]
    [InlineData(KMeansMetric.Cosine)]
    public void RecoversGaussianClusters(KMeansMetric metric)
    {
        using var scope = DisposeScope.Begin();
        var (points, labels) = Blobs(perCluster: 150, clusters: 6, dims: 16, seed: 3);
        using var result = KMeans.Fit(points, new KMeansOptions { Clusters = 6, Metric = metric, Restarts = 3, Seed = 11 });
        var ari = ClusteringMetrics.AdjustedRandIndex(result.Assignments, labels);
        Assert.True(ari >= 0.95, $"adjusted Rand index {ari:F3}");
        Assert.True(result.Converged);
        Assert.Equal([6L, 16], result.Centroids.Shape);
        if (metric == KMeansMetric.Cosine)
        {
            var norms = (result.Centroids * result.Centroids).Sum(1).ToArray<float>();
            Assert.All(norms, v => Assert.Equal(1f, v, 1e-4f));
        }
    }

    [Fact]
    public void SameSeedGivesIdenticalResults()
    {
        using var scope = DisposeScope.Begin();
        var (points, _) = Blobs(perCluster: 100, clusters: 5, dims: 8, seed: 4, spread: 4.0); // overlapping: the seed matters
        var options = new KMeansOptions { Clusters = 5, Restarts = 2, Seed = 21 };
        using var a = KMeans.Fit(points, options);
        using var b = KMeans.Fit(points, options);
        Assert.Equal(a.Assignments, b.Assignments);
        Assert.True(a.Centroids.Equal(b.Centroids));
        Assert.Equal(a.Inertia, b.Inertia);

        using var other = KMeans.Fit(points, options with { Seed = 22, Restarts = 1 });
        using var first = KMeans.Fit(points, options with { Restarts = 1 });
        Assert.False(first.Centroids.Equal(other.Centroids));
    }

    [Fact]
    public void InertiaIsTheSumOfSquaredDistancesToTheAssignedCentroid()
    {
        using var scope = DisposeScope.Begin();
        var (points, _) = Blobs(perCluster: 50, clusters: 3, dims: 4, seed: 5);
        using var result = KMeans.Fit(points, new KMeansOptions { Clusters = 3, Seed = 1 });
        var x = points.ToArray<float>();
        var c = result.Centroids.ToArray<float>();
        var expected = 0.0;
        for (var i = 0; i < result.Assignments.Length; i++)
        for (var j = 0; j < 4; j++)
        {
            var diff = x[i * 4 + j] - c[result.Assignments[i] * 4 + j];
            expected += diff * diff;
        }
        Assert.Equal(expected, result.Inertia, expected * 1e-4);
        // Each point sits with its nearest centroid.
        Assert.Equal(result.Assignments, KMeans.Predict(points, result.Centroids, KMeansMetric.Euclidean));
    }

    [Fact]
    public void MoreRestartsNeverIncreaseInertia()
    {
        using var scope = DisposeScope.Begin();
        var (points, _) = Blobs(perCluster: 80, clusters: 8, dims: 6, seed: 6, spread: 3.0);
        using var one = KMeans.Fit(points, new KMeansOptions { Clusters = 8, Restarts = 1, Seed = 3 });
        using var five = KMeans.Fit(points, new KMeansOptions { Clusters = 8, Restarts = 5, Seed = 3 });
        Assert.True(five.Inertia <= one.Inertia);
    }

    [Fact]
    public void BalancedAssignmentCapsClusterSizes()
    {
        using var scope = DisposeScope.Begin();
        // Unequal blobs: 300, 60 and 60 points.
        var (big, _) = Blobs(perCluster: 300, clusters: 1, dims: 4, seed: 7);
        var (small, _) = Blobs(perCluster: 60, clusters: 2, dims: 4, seed: 8);
        var points = Tensor.Cat([big, small], 0);
        using var free = KMeans.Fit(points, new KMeansOptions { Clusters = 3, Seed = 1 });
        Assert.True(free.Sizes().Max() >= 250);

        using var balanced = KMeans.Fit(points, new KMeansOptions { Clusters = 3, Seed = 1, BalanceSlack = 0.1 });
        var capacity = 420 / 3.0 * 1.1;
        Assert.All(balanced.Sizes(), s => Assert.True(s <= capacity, $"cluster of {s} exceeds {capacity:F0}"));
        Assert.Equal(420, balanced.Sizes().Sum());
    }

    [Fact]
    public void BalancedAssignmentWeighsPoints()
    {
        // Two centroids, four points all nearer centroid 0; weights 3, 1, 1, 1 with capacity 3 each.
        float[] distances = [0.1f, 0.9f, 0.2f, 0.8f, 0.3f, 0.7f, 0.4f, 0.6f];
        var assignment = ClusterAssignment.Balanced(distances, 2, [3, 1, 1, 1], slack: 0);
        Assert.Equal([0L, 1, 1, 1], assignment);
    }

    [Fact]
    public void TooFewPointsIsAClearError()
    {
        using var scope = DisposeScope.Begin();
        var points = Tensor.Zeros([3, 2]);
        var e = Assert.Throws<ArgumentException>(() => KMeans.Fit(points, new KMeansOptions { Clusters = 4 }));
        Assert.Contains("3 points cannot form 4 clusters", e.Message);
    }
}
