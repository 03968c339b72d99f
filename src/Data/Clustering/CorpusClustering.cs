using System.Text.Json;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Clustering;

/// <summary>Where document features come from.</summary>
public abstract record DocumentFeatureSource
{
    /// <summary>Model-free: hashed n-gram TF-IDF with a random projection (for a first run).</summary>
    public sealed record HashedNgrams(HashedNgramOptions Options) : DocumentFeatureSource;

    /// <summary>The paper's: mean-pooled token embeddings from a checkpoint's embedding table.</summary>
    public sealed record Embeddings(string CheckpointPath, string TensorName) : DocumentFeatureSource;
}

/// <summary>Settings of <see cref="CorpusClustering.Run"/>.</summary>
public sealed record CorpusClusteringOptions
{
    /// <summary>A directory written by <see cref="CorpusPreparation"/>.</summary>
    public required string CorpusDirectory { get; init; }

    /// <summary>
    /// The directory to write, replaced as a whole; if it exists it must be empty or a clustering
    /// output (see <see cref="Orleans.MoE.Torch.Serialization.OutputDirectory"/>), unless <see cref="Force"/>.
    /// </summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Replace <see cref="OutputDirectory"/> even when it holds something other than a clustering output.</summary>
    public bool Force { get; init; }

    public required int Clusters { get; init; }

    public DocumentFeatureSource Features { get; init; } = new DocumentFeatureSource.HashedNgrams(new HashedNgramOptions());

    public KMeansMetric Metric { get; init; } = KMeansMetric.Cosine;

    public int Restarts { get; init; } = 3;

    public int MaxIterations { get; init; } = 100;

    public double Tolerance { get; init; } = 1e-4;

    public ulong Seed { get; init; }

    /// <summary>Size-balanced clusters within (1 + slack) of an equal share of the training tokens.</summary>
    public double? BalanceSlack { get; init; }

    /// <summary>Mini-batch k-means over batches of this many documents instead of full Lloyd iterations.</summary>
    public int? MiniBatchDocuments { get; init; }

    public TextWriter? Log { get; init; }
}

/// <summary>
/// MoE-DisCo's data decoupling as a library function: features for every training document of a
/// prepared corpus, k-means with K = number of experts, and per-cluster token shards for the
/// submodels. Validation documents go to their nearest centroid. Output directory (written under a
/// temporary name and renamed into place):
/// <c>cluster-{k}.train.tokens</c>, <c>cluster-{k}.validation.tokens</c>, <c>assignments.jsonl</c>
/// (split, shard index, id, domain, cluster, tokens per document), <c>centroids.safetensors</c>
/// (tensor "centroids", (K, d)), <c>report.json</c> and <c>report.txt</c>.
/// </summary>
public static class CorpusClustering
{
    public static string ShardFile(int cluster, string split) => $"cluster-{cluster:D2}.{split}.tokens";

    public const string AssignmentsFile = "assignments.jsonl";
    public const string CentroidsFile = "centroids.safetensors";
    public const string ReportFile = "report.json";

    /// <summary>What <see cref="Run"/> (and the random partition of the DisCo ablation) writes, as its output directory's marker records it.</summary>
    public static readonly OutputKind Output = new("clusters", "a clustering of a corpus (moe cluster)",
        [ReportFile, CentroidsFile, AssignmentsFile], ReplacedAsAWhole: true);

    private sealed record Assignment(string Split, long Index, string Id, string Domain, int Cluster, long Tokens);

    public static ClusteringReport Run(CorpusClusteringOptions options)
    {
        var log = options.Log;
        var kmeans = new KMeansOptions
        {
            Clusters = options.Clusters, Metric = options.Metric, Restarts = options.Restarts, MaxIterations = options.MaxIterations,
            Tolerance = options.Tolerance, Seed = options.Seed, BalanceSlack = options.BalanceSlack,
        };
        kmeans.Validate();
        if (options.MiniBatchDocuments is < 1) throw new ArgumentException($"mini-batches must hold at least one document, not {options.MiniBatchDocuments}", nameof(options));
        var output = Torch.Serialization.OutputDirectory.Claim(options.OutputDirectory, Output, options.Force,
            options.Features is DocumentFeatureSource.Embeddings embeddings ? [options.CorpusDirectory, embeddings.CheckpointPath] : [options.CorpusDirectory]);
        var corpus = PreparedCorpus.Open(options.CorpusDirectory);
        var tokenizer = corpus.LoadTokenizer();
        var ignored = tokenizer.SpecialTokens.Values.Select(s => s.Id).ToHashSet();
        using var train = new TokenShardReader(corpus.ShardPath(CorpusSplits.Train));
        using var validation = new TokenShardReader(corpus.ShardPath(CorpusSplits.Validation));
        var trainRecords = corpus.DocumentsOf(CorpusSplits.Train);
        var validationRecords = corpus.DocumentsOf(CorpusSplits.Validation);
        if (trainRecords.Count != train.DocumentCount)
            throw new CorpusFormatException(corpus.Directory, $"{CorpusPreparation.DocumentsFile} lists {trainRecords.Count} training documents but {train.Path} holds {train.DocumentCount}; prepare the corpus again");
        if (trainRecords.Count < options.Clusters)
            throw new ArgumentException($"{corpus.Directory} has {trainRecords.Count} training documents, fewer than the {options.Clusters} clusters asked for");

        using var scope = DisposeScope.Begin();
        var trainTokens = ReadAll(train);
        var validationTokens = ReadAll(validation);
        using var table = options.Features is DocumentFeatureSource.Embeddings e ? EmbeddingFeatures.LoadTable(e.CheckpointPath, e.TensorName) : null;
        if (table is not null && table.Size(0) < tokenizer.VocabSize)
            throw new ArgumentException($"the embedding table has {table.Size(0)} rows but the corpus tokenizer has {tokenizer.VocabSize} tokens: the checkpoint does not belong to this corpus");

        log?.WriteLine($"clustering: features for {trainTokens.Count} training documents");
        var trainFeatures = Features(options.Features, trainTokens, tokenizer, ignored, table, out var featureName); // (N, d)
        var weights = trainRecords.Select(r => (double)r.Tokens).ToArray();
        using var result = options.MiniBatchDocuments is { } batch
            ? MiniBatchKMeans.Fit(() => trainFeatures.Split(batch), kmeans, options.MaxIterations)
            : KMeans.Fit(trainFeatures, kmeans, weights);
        log?.WriteLine($"clustering: inertia {result.Inertia:F4} after {result.Iterations} iterations");

        var validationClusters = validationTokens.Count == 0
            ? []
            : KMeans.Predict(Features(options.Features, validationTokens, tokenizer, ignored, table, out _), result.Centroids, options.Metric);

        var assignments = new List<Assignment>();
        for (var i = 0; i < trainRecords.Count; i++)
            assignments.Add(new Assignment(CorpusSplits.Train, i, trainRecords[i].Id, trainRecords[i].Domain, (int)result.Assignments[i], trainTokens[i].Length));
        for (var i = 0; i < validationRecords.Count; i++)
            assignments.Add(new Assignment(CorpusSplits.Validation, i, validationRecords[i].Id, validationRecords[i].Domain, (int)validationClusters[i], validationTokens[i].Length));

        var domains = trainRecords.Select(r => r.Domain).ToList();
        var report = new ClusteringReport(corpus.Directory, featureName, options.Metric.ToString().ToLowerInvariant(), options.Clusters, options.Seed,
            options.Restarts, options.BalanceSlack, options.MiniBatchDocuments is not null, result.Iterations, result.Converged, result.Inertia,
            ClusteringMetrics.Purity(result.Assignments, domains), ClusteringMetrics.NormalizedMutualInformation(result.Assignments, domains),
            ClusteringMetrics.AdjustedRandIndex(result.Assignments, domains), Summaries(assignments, options.Clusters));

        output.Replace(directory =>
        {
            for (var k = 0; k < options.Clusters; k++)
            {
                WriteShard(Path.Combine(directory, ShardFile(k, CorpusSplits.Train)), tokenizer.VocabSize, trainTokens, result.Assignments, k);
                WriteShard(Path.Combine(directory, ShardFile(k, CorpusSplits.Validation)), tokenizer.VocabSize, validationTokens, validationClusters, k);
            }
            AtomicFile.Write(Path.Combine(directory, AssignmentsFile), stream =>
            {
                var json = new JsonSerializerOptions(CorpusManifest.Json) { WriteIndented = false };
                foreach (var a in assignments)
                {
                    JsonSerializer.Serialize(stream, a, json);
                    stream.WriteByte((byte)'\n');
                }
            });
            SafeTensors.Save(Path.Combine(directory, CentroidsFile), new Dictionary<string, Tensor> { ["centroids"] = result.Centroids },
                new Dictionary<string, string> { ["metric"] = report.Metric, ["features"] = featureName, ["clusters"] = options.Clusters.ToString() });
            AtomicFile.Write(Path.Combine(directory, ReportFile), s => JsonSerializer.Serialize(s, report, CorpusManifest.Json));
            File.WriteAllText(Path.Combine(directory, "report.txt"), report.ToText());
        });
        log?.Write(report.ToText());
        return report;
    }

    private static List<int[]> ReadAll(TokenShardReader shard)
    {
        var documents = new List<int[]>((int)shard.DocumentCount);
        for (long d = 0; d < shard.DocumentCount; d++) documents.Add(shard.DocumentTokens(d));
        return documents;
    }

    private static Tensor Features(DocumentFeatureSource source, List<int[]> documents, Tokenization.BpeTokenizer tokenizer,
        HashSet<int> ignored, Tensor? table, out string name)
    {
        switch (source)
        {
            case DocumentFeatureSource.HashedNgrams h:
                name = $"hashed byte {h.Options.MinByteN}-{h.Options.MaxByteN}-grams{(h.Options.Words ? " and words" : "")}, TF-IDF, projected to {h.Options.Dimensions}";
                var texts = documents.Select(d => tokenizer.Decode(d.Where(id => !ignored.Contains(id)).ToArray())).ToList();
                return HashedNgramFeatures.Compute(texts, h.Options);
            case DocumentFeatureSource.Embeddings e:
                name = $"mean-pooled embeddings '{e.TensorName}' of {e.CheckpointPath}";
                return EmbeddingFeatures.MeanPooled(table!, documents, ignored);
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source, "unknown feature source");
        }
    }

    private static List<ClusterSummary> Summaries(List<Assignment> assignments, int clusters)
    {
        var result = new List<ClusterSummary>();
        for (var k = 0; k < clusters; k++)
        {
            var inCluster = assignments.Where(a => a.Cluster == k).ToList();
            var train = inCluster.Where(a => a.Split == CorpusSplits.Train).ToList();
            var validation = inCluster.Where(a => a.Split == CorpusSplits.Validation).ToList();
            var domains = train.GroupBy(a => a.Domain).Select(g => new DomainShare(g.Key, g.Count()))
                .OrderByDescending(d => d.Documents).ThenBy(d => d.Domain, StringComparer.Ordinal).ToList();
            result.Add(new ClusterSummary(k, train.Count, train.Sum(a => a.Tokens), validation.Count, validation.Sum(a => a.Tokens), domains));
        }
        return result;
    }

    private static void WriteShard(string path, int vocabSize, List<int[]> documents, long[] clusters, int cluster)
    {
        using var writer = new TokenShardWriter(path, vocabSize);
        for (var i = 0; i < documents.Count; i++)
            if (clusters[i] == cluster) writer.AddDocument(documents[i]);
        writer.Complete();
    }
}
