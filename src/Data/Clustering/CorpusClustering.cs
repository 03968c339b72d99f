using System.Text.Json;
using Orleans.MoE.Data.Clustering.Sharding;
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
/// <para>
/// Sharded (<see cref="Run(CorpusClusteringOptions, IShardExchange)"/>), S data shards share the
/// work: each reads and featurises its own range of the documents (see <see cref="ShardRanges"/>),
/// takes part in sharded k-means (document frequencies and k-means sums are exchanged, never
/// documents), and writes its documents' per-cluster token files; shard 0 then joins them, in
/// shard order, into the same output directory one process writes, byte for byte.
/// </para>
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

    public static ClusteringReport Run(CorpusClusteringOptions options) => Run(options, SingleShard.Instance);

    /// <summary>
    /// This data shard's part of the clustering; every shard calls it with the same options, at
    /// the same time. Shard 0 writes the output directory; every shard returns the report.
    /// </summary>
    public static ClusteringReport Run(CorpusClusteringOptions options, IShardExchange exchange)
    {
        var log = options.Log;
        var kmeans = new KMeansOptions
        {
            Clusters = options.Clusters, Metric = options.Metric, Restarts = options.Restarts, MaxIterations = options.MaxIterations,
            Tolerance = options.Tolerance, Seed = options.Seed, BalanceSlack = options.BalanceSlack,
        };
        kmeans.Validate();
        if (options.MiniBatchDocuments is < 1) throw new ArgumentException($"mini-batches must hold at least one document, not {options.MiniBatchDocuments}", nameof(options));
        if (options.MiniBatchDocuments is not null && exchange.Shards > 1) throw new ArgumentException("mini-batch k-means runs in one process; use full k-means with data shards", nameof(options));
        var (shard, shards) = (exchange.Shard, exchange.Shards);
        var leader = shard == 0;
        var staging = options.OutputDirectory.TrimEnd(Path.DirectorySeparatorChar) + ".shards";
        if (leader && shards > 1 && Directory.Exists(staging)) Directory.Delete(staging, recursive: true);   // an interrupted run's parts; before any exchange, so before any shard writes
        var output = leader
            ? Torch.Serialization.OutputDirectory.Claim(options.OutputDirectory, Output, options.Force,
                options.Features is DocumentFeatureSource.Embeddings embeddings ? [options.CorpusDirectory, embeddings.CheckpointPath] : [options.CorpusDirectory])
            : null;
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
        var trainRange = ShardRanges.Of(trainRecords.Count, shard, shards);
        var validationRange = ShardRanges.Of((int)validation.DocumentCount, shard, shards);
        var trainTokens = Read(train, trainRange);
        var validationTokens = Read(validation, validationRange);
        using var table = options.Features is DocumentFeatureSource.Embeddings e ? EmbeddingFeatures.LoadTable(e.CheckpointPath, e.TensorName) : null;
        if (table is not null && table.Size(0) < tokenizer.VocabSize)
            throw new ArgumentException($"the embedding table has {table.Size(0)} rows but the corpus tokenizer has {tokenizer.VocabSize} tokens: the checkpoint does not belong to this corpus");

        log?.WriteLine(shards == 1
            ? $"clustering: features for {trainTokens.Count} training documents"
            : $"clustering, data shard {shard} of {shards}: features for training documents [{trainRange.Start}, {trainRange.End}) of {trainRecords.Count}");
        var trainFeatures = Features(options.Features, trainTokens, trainRecords.Count, exchange, tokenizer, ignored, table, out var featureName); // (N_shard, d)
        var weights = trainRecords.Skip(trainRange.Start).Take(trainRange.End - trainRange.Start).Select(r => (double)r.Tokens).ToArray();
        using var result = options.MiniBatchDocuments is { } batch
            ? MiniBatchKMeans.Fit(() => trainFeatures.Split(batch), kmeans, options.MaxIterations)
            : KMeans.Fit(trainFeatures, kmeans, exchange, weights);
        log?.WriteLine($"clustering: inertia {result.Inertia:F4} after {result.Iterations} iterations");

        var validationClusters = validation.DocumentCount == 0
            ? []
            : KMeans.Predict(Features(options.Features, validationTokens, validation.DocumentCount, exchange, tokenizer, ignored, table, out _), result.Centroids, options.Metric);

        // Every document's cluster and length, in corpus order: the shards' parts joined.
        var trainClusters = Joined(exchange, result.Assignments);
        var allValidationClusters = Joined(exchange, validationClusters);
        var trainLengths = Joined(exchange, trainTokens.Select(t => (long)t.Length).ToArray());
        var validationLengths = Joined(exchange, validationTokens.Select(t => (long)t.Length).ToArray());
        var assignments = new List<Assignment>();
        for (var i = 0; i < trainRecords.Count; i++)
            assignments.Add(new Assignment(CorpusSplits.Train, i, trainRecords[i].Id, trainRecords[i].Domain, (int)trainClusters[i], trainLengths[i]));
        for (var i = 0; i < validationRecords.Count; i++)
            assignments.Add(new Assignment(CorpusSplits.Validation, i, validationRecords[i].Id, validationRecords[i].Domain, (int)allValidationClusters[i], validationLengths[i]));

        var domains = trainRecords.Select(r => r.Domain).ToList();
        var report = new ClusteringReport(corpus.Directory, featureName, options.Metric.ToString().ToLowerInvariant(), options.Clusters, options.Seed,
            options.Restarts, options.BalanceSlack, options.MiniBatchDocuments is not null, result.Iterations, result.Converged, result.Inertia,
            ClusteringMetrics.Purity(trainClusters, domains), ClusteringMetrics.NormalizedMutualInformation(trainClusters, domains),
            ClusteringMetrics.AdjustedRandIndex(trainClusters, domains), Summaries(assignments, options.Clusters));

        // Each shard writes its own documents' per-cluster token files: the final ones when it is the
        // only shard, otherwise parts that shard 0 joins once every shard has written its own.
        var partDirectory = Path.Combine(staging, $"shard-{shard:D3}");
        if (shards > 1)
        {
            Directory.CreateDirectory(partDirectory);
            WriteShards(partDirectory, options.Clusters, tokenizer.VocabSize, trainTokens, result.Assignments, validationTokens, validationClusters);
            exchange.SumAll([1]);   // every part is written
        }
        if (output is null) return report;
        output.Replace(directory =>
        {
            if (shards == 1) WriteShards(directory, options.Clusters, tokenizer.VocabSize, trainTokens, result.Assignments, validationTokens, validationClusters);
            else JoinParts(staging, shards, directory, options.Clusters, tokenizer.VocabSize);
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
        if (shards > 1) Directory.Delete(staging, recursive: true);
        log?.Write(report.ToText());
        return report;
    }

    private static long[] Joined(IShardExchange exchange, long[] part) => exchange.Shards == 1 ? part : exchange.GatherAll(part).SelectMany(p => p).ToArray();

    private static List<int[]> Read(TokenShardReader shard, (int Start, int End) range)
    {
        var documents = new List<int[]>(range.End - range.Start);
        for (long d = range.Start; d < range.End; d++) documents.Add(shard.DocumentTokens(d));
        return documents;
    }

    /// <summary>Per cluster, a training and a validation token file of the given documents, in their order.</summary>
    private static void WriteShards(string directory, int clusters, int vocabSize, List<int[]> train, long[] trainClusters, List<int[]> validation, long[] validationClusters)
    {
        for (var k = 0; k < clusters; k++)
        {
            WriteShard(Path.Combine(directory, ShardFile(k, CorpusSplits.Train)), vocabSize, train, trainClusters, k);
            WriteShard(Path.Combine(directory, ShardFile(k, CorpusSplits.Validation)), vocabSize, validation, validationClusters, k);
        }
    }

    /// <summary>Each cluster's token files as the shards' parts one after another: the documents in corpus order, as one process writes them.</summary>
    private static void JoinParts(string staging, int shards, string directory, int clusters, int vocabSize)
    {
        foreach (var split in new[] { CorpusSplits.Train, CorpusSplits.Validation })
        for (var k = 0; k < clusters; k++)
        {
            using var writer = new TokenShardWriter(Path.Combine(directory, ShardFile(k, split)), vocabSize);
            for (var s = 0; s < shards; s++)
            {
                using var part = new TokenShardReader(Path.Combine(staging, $"shard-{s:D3}", ShardFile(k, split)));
                for (long d = 0; d < part.DocumentCount; d++) writer.AddDocument(part.DocumentTokens(d));
            }
            writer.Complete();
        }
    }

    /// <summary>
    /// Features of a shard's documents, of a split of <paramref name="splitDocuments"/> documents in
    /// all: TF-IDF weighs a term by its document frequency over the whole split, which the shards
    /// add up from their own counts.
    /// </summary>
    private static Tensor Features(DocumentFeatureSource source, List<int[]> documents, long splitDocuments, IShardExchange exchange,
        Tokenization.BpeTokenizer tokenizer, HashSet<int> ignored, Tensor? table, out string name)
    {
        switch (source)
        {
            case DocumentFeatureSource.HashedNgrams h:
                name = $"hashed byte {h.Options.MinByteN}-{h.Options.MaxByteN}-grams{(h.Options.Words ? " and words" : "")}, TF-IDF, projected to {h.Options.Dimensions}";
                var texts = documents.Select(d => tokenizer.Decode(d.Where(id => !ignored.Contains(id)).ToArray())).ToList();
                var frequencies = exchange.SumAll(HashedNgramFeatures.DocumentFrequencies(texts, h.Options));
                return HashedNgramFeatures.Compute(texts, h.Options, frequencies, splitDocuments);
            case DocumentFeatureSource.Embeddings e:
                name = $"mean-pooled embeddings '{e.TensorName}' of {e.CheckpointPath}";
                return documents.Count == 0 ? Tensor.Zeros([0, table!.Size(1)]) : EmbeddingFeatures.MeanPooled(table!, documents, ignored);
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
