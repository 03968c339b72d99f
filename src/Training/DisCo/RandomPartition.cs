using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The paper's clustering ablation: documents dealt to K clusters at random in equal numbers (a seeded
/// permutation, then round robin), written in the same layout as <see cref="CorpusClustering"/>.
/// </summary>
public static class RandomPartition
{
    /// <summary>Writes the cluster shards and returns the training tokens of each cluster.</summary>
    public static long[] Run(string corpusDirectory, string outputDirectory, int clusters, ulong seed)
    {
        var corpus = PreparedCorpus.Open(corpusDirectory);
        var tokens = new long[clusters];
        OutputDirectory.Claim(outputDirectory, CorpusClustering.Output, inputs: [corpusDirectory]).Replace(directory =>
        {
            foreach (var split in new[] { CorpusSplits.Train, CorpusSplits.Validation })
            {
                using var source = new TokenShardReader(corpus.ShardPath(split));
                var writers = Enumerable.Range(0, clusters)
                    .Select(k => new TokenShardWriter(Path.Combine(directory, CorpusClustering.ShardFile(k, split)), source.VocabSize)).ToArray();
                try
                {
                    var order = new SeededPermutation(source.DocumentCount, seed);
                    for (long i = 0; i < source.DocumentCount; i++)
                    {
                        var document = order[i];
                        var cluster = (int)(i % clusters);
                        var content = source.DocumentTokens(document);
                        writers[cluster].AddDocument(content);
                        if (split == CorpusSplits.Train) tokens[cluster] += content.Length;
                    }
                    foreach (var w in writers) w.Complete();
                }
                finally
                {
                    foreach (var w in writers) w.Dispose();
                }
            }
        });
        return tokens;
    }
}
