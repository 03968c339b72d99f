using System.Text.Json;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Tests.Clustering;

/// <summary>A small prepared corpus of three built-in domains, shared by the tests of one class.</summary>
public sealed class SmallPreparedCorpus : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("moe-clustering-").FullName;

    public PreparedCorpus Corpus { get; }

    public SmallPreparedCorpus() => Corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
    {
        Sources = [new BuiltInCorpus(maxDocumentsPerDomain: 40, domains: ["fortunes-de", "go", "scripture-en"])],
        OutputDirectory = Path.Combine(Root, "corpus"),
        VocabSize = 400,
        ValidationFraction = 0.1,
        Seed = 1,
    });

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>The whole data decoupling on a small prepared corpus of three built-in domains.</summary>
public sealed class CorpusClusteringTests(SmallPreparedCorpus fixture) : IClassFixture<SmallPreparedCorpus>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-clustering-run-").FullName;
    private readonly PreparedCorpus _corpus = fixture.Corpus;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CorpusClusteringOptions Options(string name) => new()
    {
        CorpusDirectory = _corpus.Directory, OutputDirectory = Path.Combine(_dir, name), Clusters = 3, Seed = 3,
    };

    [Fact]
    public void WritesPerClusterShardsAssignmentsCentroidsAndReport()
    {
        var options = Options("clusters");
        var report = CorpusClustering.Run(options);
        Assert.True(report.NormalizedMutualInformation >= 0.9, $"NMI {report.NormalizedMutualInformation:F3}");

        var lines = File.ReadAllLines(Path.Combine(options.OutputDirectory, CorpusClustering.AssignmentsFile));
        Assert.Equal(_corpus.Documents.Count, lines.Length);
        var assignments = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();

        using var train = new TokenShardReader(_corpus.ShardPath(CorpusSplits.Train));
        long documents = 0, tokens = 0;
        for (var k = 0; k < 3; k++)
        {
            using var shard = new TokenShardReader(Path.Combine(options.OutputDirectory, CorpusClustering.ShardFile(k, CorpusSplits.Train)));
            var members = assignments.Where(a => a.GetProperty("split").GetString() == "train" && a.GetProperty("cluster").GetInt32() == k)
                .Select(a => a.GetProperty("index").GetInt64()).ToList();
            Assert.Equal(members.Count, shard.DocumentCount);
            Assert.Equal(report.ClusterSummaries[k].Documents, shard.DocumentCount);
            Assert.Equal(report.ClusterSummaries[k].Tokens, shard.TokenCount);
            for (var d = 0; d < members.Count; d++) Assert.Equal(train.DocumentTokens(members[d]), shard.DocumentTokens(d));
            documents += shard.DocumentCount;
            tokens += shard.TokenCount;
        }
        Assert.Equal(train.DocumentCount, documents);
        Assert.Equal(train.TokenCount, tokens);

        var validationDocuments = Enumerable.Range(0, 3).Sum(k =>
        {
            using var shard = new TokenShardReader(Path.Combine(options.OutputDirectory, CorpusClustering.ShardFile(k, CorpusSplits.Validation)));
            return shard.DocumentCount;
        });
        Assert.Equal(_corpus.DocumentsOf(CorpusSplits.Validation).Count, validationDocuments);

        using var scope = DisposeScope.Begin();
        var (centroids, metadata) = SafeTensors.Load(Path.Combine(options.OutputDirectory, CorpusClustering.CentroidsFile));
        Assert.Equal([3L, 256], centroids["centroids"].Shape);
        Assert.Equal("cosine", metadata["metric"]);
        Assert.Contains("NMI", File.ReadAllText(Path.Combine(options.OutputDirectory, "report.txt")));

        // Same seed, same clusters.
        var again = CorpusClustering.Run(options with { OutputDirectory = Path.Combine(_dir, "again") });
        Assert.Equal(lines, File.ReadAllLines(Path.Combine(_dir, "again", CorpusClustering.AssignmentsFile)));
        Assert.Equal(report.Inertia, again.Inertia);
    }

    [Fact]
    public void BalancedClustersStayNearAnEqualShareOfTokens()
    {
        var report = CorpusClustering.Run(Options("balanced") with { BalanceSlack = 0.05 });
        var total = report.ClusterSummaries.Sum(c => c.Tokens);
        Assert.All(report.ClusterSummaries, c => Assert.True(c.Tokens <= total / 3.0 * 1.05 + 2000, $"cluster {c.Cluster} has {c.Tokens} of {total} tokens"));
    }

    [Fact]
    public void MiniBatchRunsThroughThePipeline()
    {
        var report = CorpusClustering.Run(Options("minibatch") with { MiniBatchDocuments = 32 });
        Assert.True(report.MiniBatch);
        Assert.True(report.NormalizedMutualInformation >= 0.8, $"NMI {report.NormalizedMutualInformation:F3}");
    }

    [Fact]
    public void ClustersByCheckpointEmbeddings()
    {
        using var scope = DisposeScope.Begin();
        var checkpoint = Path.Combine(_dir, "model.safetensors");
        var vocab = _corpus.Manifest.VocabSize;
        SafeTensors.Save(checkpoint, new Dictionary<string, Tensor> { ["wte.weight"] = Tensor.Randn([vocab, 16], new Generator(1)) });
        var report = CorpusClustering.Run(Options("embeddings") with { Features = new DocumentFeatureSource.Embeddings(checkpoint, "wte.weight") });
        Assert.Contains("wte.weight", report.Features);
        var (centroids, _) = SafeTensors.Load(Path.Combine(_dir, "embeddings", CorpusClustering.CentroidsFile));
        Assert.Equal([3L, 16], centroids["centroids"].Shape);
        Assert.Equal(_corpus.DocumentsOf(CorpusSplits.Train).Count, report.ClusterSummaries.Sum(c => c.Documents));
    }

    [Fact]
    public void BadInputWritesNothing()
    {
        var missingTensor = Options("bad-tensor") with { Features = new DocumentFeatureSource.Embeddings(Path.Combine(_dir, "absent.safetensors"), "wte.weight") };
        Assert.Throws<SafeTensorsFormatException>(() => CorpusClustering.Run(missingTensor));
        Assert.False(Directory.Exists(missingTensor.OutputDirectory));

        var notACorpus = Options("bad-corpus") with { CorpusDirectory = Path.Combine(_dir, "elsewhere") };
        var e = Assert.Throws<CorpusFormatException>(() => CorpusClustering.Run(notACorpus));
        Assert.Contains("manifest.json", e.Message);
        Assert.False(Directory.Exists(notACorpus.OutputDirectory));

        var tooMany = Options("too-many") with { Clusters = 10_000 };
        Assert.Contains("fewer than the 10000 clusters", Assert.Throws<ArgumentException>(() => CorpusClustering.Run(tooMany)).Message);
        Assert.Empty(Directory.GetDirectories(_dir));
    }

    [Fact]
    public void AnOutputThatIsTheCorpusOrHoldsOtherFilesIsRefusedBeforeAnyWork()
    {
        var log = new StringWriter();
        var intoCorpus = Options("unused") with { OutputDirectory = _corpus.Directory, Log = log };
        var corpusBefore = DirectoryTree.Hash(_corpus.Directory);
        Assert.Equal($"{_corpus.Directory}: is also an input; write a clustering of a corpus (moe cluster) to another directory",
            Assert.Throws<OutputDirectoryException>(() => CorpusClustering.Run(intoCorpus)).Message);
        Assert.Contains("lies inside the input", Assert.Throws<OutputDirectoryException>(() =>
            CorpusClustering.Run(intoCorpus with { OutputDirectory = Path.Combine(_corpus.Directory, "clusters") })).Message);
        Assert.Equal(corpusBefore, DirectoryTree.Hash(_corpus.Directory));

        var notes = Directory.CreateDirectory(Path.Combine(_dir, "notes")).FullName;
        File.WriteAllText(Path.Combine(notes, "todo.txt"), "keep me");
        var before = DirectoryTree.Hash(_dir);
        var e = Assert.Throws<OutputDirectoryException>(() => CorpusClustering.Run(Options("notes") with { Log = log }));
        Assert.Contains($"{notes}: is not empty and was not written as a clustering of a corpus (moe cluster) (it holds todo.txt)", e.Message);
        Assert.Equal("the number of clusters must be at least 1, not 0",
            Assert.Throws<ArgumentException>(() => CorpusClustering.Run(Options("zero") with { Clusters = 0, Log = log })).Message);
        Assert.Equal(before, DirectoryTree.Hash(_dir));
        Assert.Equal("", log.ToString());   // refused before any feature was computed

        var replaced = CorpusClustering.Run(Options("notes") with { Force = true });
        Assert.False(File.Exists(Path.Combine(notes, "todo.txt")));
        Assert.Equal(CorpusClustering.Output.Name, OutputDirectory.KindOf(notes)!.Name);
        Assert.Equal(3, replaced.Clusters);
    }
}
