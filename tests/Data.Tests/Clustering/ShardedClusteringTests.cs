using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Clustering.Sharding;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Data.Tests.Clustering;

/// <summary>
/// Data shards (each rank of a real gloo group over loopback, on its own thread, holding one range of
/// the points) cluster to exactly what one process does with all the points: same centroids, same
/// assignments, same inertia, bit for bit.
/// </summary>
public sealed class ShardedClusteringTests
{
    [Theory]
    [InlineData(KMeansMetric.Cosine, 2, null)]
    [InlineData(KMeansMetric.Euclidean, 3, null)]
    [InlineData(KMeansMetric.Cosine, 5, null)]     // more shards than blocks: one shard holds no point
    [InlineData(KMeansMetric.Euclidean, 2, 0.1)]   // size-balanced assignment, weighted
    public void ShardedKMeansEqualsOneProcessBitForBit(KMeansMetric metric, int shards, double? balanceSlack)
    {
        // 900 points: blocks of 256, 256, 256 and 132; overlapping blobs so that Lloyd takes several iterations.
        using var scope = DisposeScope.Begin();
        var (points, _) = KMeansTests.Blobs(perCluster: 150, clusters: 6, dims: 12, seed: 7, spread: 4.0);
        var data = points.ToArray<float>();
        var (n, d) = ((int)points.Size(0), (int)points.Size(1));
        var weights = Enumerable.Range(0, n).Select(i => 1.0 + i % 7).ToArray();
        var options = new KMeansOptions { Clusters = 5, Metric = metric, Restarts = 2, Seed = 4, BalanceSlack = balanceSlack };
        using var single = KMeans.Fit(points, options, balanceSlack is null ? null : weights);
        Assert.True(single.Iterations > 2, $"{single.Iterations} iterations: too easy a case to show anything");

        var parts = LocalRanks.Run(shards, group =>
        {
            var (start, end) = ShardRanges.Of(n, group.Rank, group.WorldSize);
            using var local = Tensor.FromArray(data.AsSpan(start * d, (end - start) * d).ToArray(), end - start, d);
            using var result = KMeans.Fit(local, options, new ProcessGroupShardExchange(group), balanceSlack is null ? null : weights[start..end]);
            return (result.Assignments, Centroids: result.Centroids.ToArray<float>(), result.Inertia, result.Iterations, result.BestRestart, result.Converged);
        });

        var expectedCentroids = single.Centroids.ToArray<float>();
        foreach (var part in parts)
        {
            Assert.Equal(expectedCentroids, part.Centroids);   // exact float equality, element by element
            Assert.Equal(single.Inertia, part.Inertia);
            Assert.Equal(single.Iterations, part.Iterations);
            Assert.Equal(single.BestRestart, part.BestRestart);
            Assert.Equal(single.Converged, part.Converged);
        }
        Assert.Equal(single.Assignments, parts.SelectMany(p => p.Assignments).ToArray());
        Assert.Contains(parts, p => p.Assignments.Length == 0 == (shards > 4));
    }

    [Fact]
    public void ShardsOfWholeBlocksCoverThePointsInOrder()
    {
        Assert.Equal([(0, 512), (512, 900)], Enumerable.Range(0, 2).Select(s => ShardRanges.Of(900, s, 2)));
        Assert.Equal([(0, 256), (256, 512), (512, 900)], Enumerable.Range(0, 3).Select(s => ShardRanges.Of(900, s, 3)));
        Assert.Equal([(0, 0), (0, 0), (0, 100)], Enumerable.Range(0, 3).Select(s => ShardRanges.Of(100, s, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardRanges.Of(100, 3, 3));
    }

    [Fact]
    public void ShardsThatDoNotHoldWholeBlocksAreRefused()
    {
        var error = Assert.Throws<AggregateException>(() => LocalRanks.Run(2, group =>
        {
            using var scope = DisposeScope.Begin();
            var local = Tensor.Ones([100, 4]);   // shard 0 ends inside the first block
            KMeans.Fit(local, new KMeansOptions { Clusters = 2 }, new ProcessGroupShardExchange(group));
        }));
        Assert.Contains("whole blocks of 256", error.InnerExceptions[0].Message);
    }
}

/// <summary>A prepared corpus of more than one block of training documents, so that two data shards both hold some.</summary>
public sealed class TwoBlockPreparedCorpus : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("moe-sharded-clustering-").FullName;

    public PreparedCorpus Corpus { get; }

    public TwoBlockPreparedCorpus() => Corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
    {
        Sources = [new BuiltInCorpus(maxDocumentsPerDomain: 130, domains: ["fortunes-de", "go", "scripture-en"])],
        OutputDirectory = Path.Combine(Root, "corpus"),
        VocabSize = 400,
        ValidationFraction = 0.1,
        Seed = 1,
    });

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class ShardedCorpusClusteringTests(TwoBlockPreparedCorpus fixture) : IClassFixture<TwoBlockPreparedCorpus>
{
    [Fact]
    public void TwoDataShardsWriteTheSameClusteringAsOneProcessByteForByte()
    {
        var corpus = fixture.Corpus;
        Assert.True(corpus.DocumentsOf(CorpusSplits.Train).Count > ShardRanges.BlockRows, "both shards must hold documents");
        CorpusClusteringOptions Options(string name) => new()
        {
            CorpusDirectory = corpus.Directory, OutputDirectory = Path.Combine(fixture.Root, name), Clusters = 3, Seed = 3, Restarts = 2,
        };
        var single = CorpusClustering.Run(Options("single"));
        var reports = LocalRanks.Run(2, group => CorpusClustering.Run(Options("sharded"), new ProcessGroupShardExchange(group)));

        var files = new[] { CorpusClustering.AssignmentsFile, CorpusClustering.CentroidsFile, CorpusClustering.ReportFile, "report.txt" }
            .Concat(Enumerable.Range(0, 3).SelectMany(k => new[] { CorpusClustering.ShardFile(k, CorpusSplits.Train), CorpusClustering.ShardFile(k, CorpusSplits.Validation) }));
        foreach (var file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(fixture.Root, "single", file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(fixture.Root, "sharded", file))), $"{file} differs");
        Assert.All(reports, r => Assert.Equal(single.NormalizedMutualInformation, r.NormalizedMutualInformation));
        Assert.False(Directory.Exists(Path.Combine(fixture.Root, "sharded.shards")), "the shards' parts are removed once joined");
    }
}
