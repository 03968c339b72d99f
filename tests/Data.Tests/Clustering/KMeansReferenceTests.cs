using System.Text.Json.Nodes;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Tests.Clustering;

/// <summary>
/// k-means against scikit-learn (Fixtures/kmeans-sklearn.json, written by
/// tests/fixtures/make_kmeans_fixtures.py), and the fused Lloyd kernel against a plain double-precision
/// computation.
/// </summary>
public class KMeansReferenceTests
{
    private static JsonObject Fixture() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "kmeans-sklearn.json")))!;

    /// <summary>The fixture's points, generated as the script does (SplitMix64, doubles rounded to float32).</summary>
    private static float[] Points(JsonObject generator, out int n, out int d)
    {
        n = (int)generator["n"]!;
        d = (int)generator["d"]!;
        var groups = (int)generator["groups"]!;
        var random = new SeededRandom((ulong)generator["seed"]!);
        var centres = new double[groups][];
        for (var g = 0; g < groups; g++)
        {
            centres[g] = new double[d];
            for (var j = 0; j < d; j++) centres[g][j] = random.NextDouble() - 0.5;
        }
        var values = new float[n * d];
        for (var i = 0; i < n; i++)
        for (var j = 0; j < d; j++)
            values[i * d + j] = (float)(centres[i % groups][j] + (random.NextDouble() + random.NextDouble() + random.NextDouble() + random.NextDouble() - 2.0));
        return values;
    }

    [Fact]
    public void FromTheSameStartItStopsWhereScikitLearnStopsWithTheSameClusters()
    {
        using var scope = DisposeScope.Begin();
        var fixture = Fixture();
        var values = Points(fixture["generator"]!.AsObject(), out var n, out var d);
        Assert.Equal((double)fixture["data_sum"]!, values.Sum(v => (double)v), 6);   // the same points as the script's
        var k = (int)fixture["k"]!;
        var points = Tensor.FromArray(values, n, d);
        Assert.Equal((double)fixture["mean_variance"]!, new FeatureMatrix(values, n, d).MeanVariance(), 9);

        var tolerance = (double)fixture["tol"]!;
        var options = new KMeansOptions { Clusters = k, Tolerance = tolerance, MaxIterations = 300 };
        using var result = KMeans.Fit(points, options, initialCentroids: points.Narrow(0, 0, k));
        Assert.Equal((int)fixture["n_iter"]!, result.Iterations);
        Assert.True(result.Converged);
        Assert.Equal(fixture["labels"]!.AsArray().Select(l => (long)l!), result.Assignments);
        var centroids = result.Centroids.ToArray<float>();
        var expected = fixture["centers"]!.AsArray().SelectMany(row => row!.AsArray().Select(v => (float)v!)).ToArray();
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], centroids[i], 1e-5f);
        Assert.Equal((double)fixture["inertia"]!, result.Inertia, (double)fixture["inertia"]! * 1e-6);

        // The tolerance is relative to the mean of the feature variances: relative to their sum (d
        // times looser, the convention this replaced) the same setting stops earlier.
        using var summed = KMeans.Fit(points, options with { Tolerance = tolerance * d }, initialCentroids: points.Narrow(0, 0, k));
        Assert.True(summed.Iterations < result.Iterations, $"{summed.Iterations} iterations with the summed convention");
    }

    [Fact]
    public void InitialCentroidsMustFitAndAreNotRestarted()
    {
        using var scope = DisposeScope.Begin();
        var points = Tensor.Randn([50, 4], new Generator(1));
        var options = new KMeansOptions { Clusters = 3 };
        Assert.Contains("do not fit 3 clusters of 4-dimensional features",
            Assert.Throws<ArgumentException>(() => KMeans.Fit(points, options, initialCentroids: Tensor.Zeros([3, 5]))).Message);
        Assert.Contains("use 1 restart with initial centroids",
            Assert.Throws<ArgumentException>(() => KMeans.Fit(points, options with { Restarts = 2 }, initialCentroids: points.Narrow(0, 0, 3))).Message);

        // One iteration from given centroids: each becomes the mean of the points nearest to it.
        var start = points.Narrow(0, 10, 3).Contiguous();
        using var one = KMeans.Fit(points, options with { MaxIterations = 1 }, initialCentroids: start);
        var nearest = KMeans.Predict(points, start, KMeansMetric.Euclidean);
        var x = points.ToArray<float>();
        var c = one.Centroids.ToArray<float>();
        for (var cluster = 0; cluster < 3; cluster++)
        {
            var members = Enumerable.Range(0, 50).Where(i => nearest[i] == cluster).ToList();
            for (var j = 0; j < 4; j++) Assert.Equal(members.Average(i => x[i * 4 + j]), c[cluster * 4 + j], 1e-5f);
        }
    }

    [Theory]
    [InlineData(KMeansMetric.Euclidean)]
    [InlineData(KMeansMetric.Cosine)]
    public void TheKernelMatchesAPlainComputationAndDoesNotDependOnTheThreadCount(KMeansMetric metric)
    {
        // 1,001 rows (several blocks and an odd last row), 13 dimensions (not a multiple of the 8 lanes), 5 centroids (padded to 8).
        var (n, d, k) = (1001, 13, 5);
        var random = new Random(9);
        var values = Enumerable.Range(0, n * d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var centroidValues = Enumerable.Range(0, k * d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        if (metric == KMeansMetric.Cosine)
        {
            KMeans.NormalizeRows(values, d);
            KMeans.NormalizeRows(centroidValues, d);
        }
        var points = new FeatureMatrix(values, n, d);
        var centroids = new CentroidSet(centroidValues, k, d);

        var runs = new[] { 1, 2, 3 }.Select(threads =>
        {
            var assignments = new long[n];
            var distances = new float[n];
            var sums = new ClusterSums(k, d);
            LloydKernel.Assign(points, centroids, metric, threads, assignments, distances, sums);
            return (assignments, distances, sums);
        }).ToList();
        foreach (var other in runs.Skip(1))
        {
            Assert.Equal(runs[0].assignments, other.assignments);
            Assert.Equal(runs[0].distances, other.distances);
            Assert.Equal(runs[0].sums.Totals, other.sums.Totals);
        }

        var (got, gotDistances, gotSums) = runs[0];
        var matrix = ClusterAssignment.DistanceMatrix(points, centroids, metric, threads: 2);
        var totals = new double[k * d];
        var counts = new long[k];
        for (var i = 0; i < n; i++)
        {
            var distance = new double[k];
            for (var c = 0; c < k; c++)
            {
                double dot = 0, squares = 0;
                for (var j = 0; j < d; j++)
                {
                    dot += (double)values[i * d + j] * centroidValues[c * d + j];
                    squares += Math.Pow(values[i * d + j] - centroidValues[c * d + j], 2);
                }
                distance[c] = metric == KMeansMetric.Euclidean ? squares : 1 - dot;
                Assert.Equal(distance[c], matrix[i * k + c], 1e-4);
            }
            var best = Array.IndexOf(distance, distance.Min());
            Assert.Equal(best, got[i]);
            Assert.Equal(distance[best], gotDistances[i], 1e-4);
            counts[best]++;
            for (var j = 0; j < d; j++) totals[best * d + j] += values[i * d + j];
        }
        Assert.Equal(counts, gotSums.Counts);
        for (var i = 0; i < totals.Length; i++) Assert.Equal(totals[i], gotSums.Totals[i], 1e-3);
    }
}
