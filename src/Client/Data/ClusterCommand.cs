using System.CommandLine;
using Orleans.MoE.Data.Clustering;

namespace Orleans.MoE.Client.Data;

/// <summary>`moe cluster`: MoE-DisCo's data decoupling of a prepared corpus into K per-cluster shards.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var corpus = new Option<DirectoryInfo>("--corpus") { Description = "A directory written by `moe prepare`.", Required = true };
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "Directory to write, replaced as a whole: it must be new, empty, or a clustering written before.", Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace --out even when it holds something else." };
        var clusters = new Option<int>("--clusters") { Description = "K: one cluster per expert.", Required = true };
        var metric = new Option<KMeansMetric>("--metric") { Description = "Distance of k-means.", DefaultValueFactory = _ => KMeansMetric.Cosine };
        var embeddings = new Option<FileInfo?>("--embeddings")
        {
            Description = "A safetensors checkpoint whose embedding table gives mean-pooled document features (default: hashed n-grams).",
        };
        var tensor = new Option<string>("--embedding-tensor") { Description = "Name of the embedding table in --embeddings.", DefaultValueFactory = _ => "token_embedding" };
        var balance = new Option<double?>("--balance-slack") { Description = "Size-balanced clusters within (1 + slack) of an equal share of tokens." };
        var restarts = new Option<int>("--restarts") { Description = "k-means restarts; the best inertia is kept.", DefaultValueFactory = _ => 3 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of features and k-means.", DefaultValueFactory = _ => 0 };

        var command = new Command("cluster", "Cluster a prepared corpus into K subsets (one per expert) and write per-cluster token shards.");
        foreach (var option in new Option[] { corpus, output, force, clusters, metric, embeddings, tensor, balance, restarts, seed }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var embeddingFile = parse.GetValue(embeddings);
            var report = CorpusClustering.Run(new CorpusClusteringOptions
            {
                CorpusDirectory = parse.GetValue(corpus)!.FullName,
                OutputDirectory = parse.GetValue(output)!.FullName,
                Force = parse.GetValue(force),
                Clusters = parse.GetValue(clusters),
                Metric = parse.GetValue(metric),
                Features = embeddingFile is null
                    ? new DocumentFeatureSource.HashedNgrams(new HashedNgramOptions())
                    : new DocumentFeatureSource.Embeddings(embeddingFile.FullName, parse.GetValue(tensor)!),
                BalanceSlack = parse.GetValue(balance),
                Restarts = parse.GetValue(restarts),
                Seed = parse.GetValue(seed),
                Log = Console.Out,
            });
            Console.WriteLine($"clusters written to {parse.GetValue(output)!.FullName}");
            return 0;
        });
        return command;
    }
}
