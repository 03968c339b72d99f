using Orleans.MoE.Data.Corpora;

namespace Orleans.MoE.Bench.Data;

/// <summary>Text for the tokenizer benchmark: the built-in corpus (ten domains, five languages, three programming languages).</summary>
internal static class BenchCorpus
{
    public static List<byte[]> Load(long maxBytesPerDomain) =>
        new BuiltInCorpus(maxBytesPerDomain: maxBytesPerDomain).ReadDocuments().Select(d => d.Text).ToList();
}
