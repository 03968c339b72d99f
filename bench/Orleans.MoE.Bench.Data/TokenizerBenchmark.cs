using System.Diagnostics;
using System.Text;
using Orleans.MoE.Data.Tokenization;

namespace Orleans.MoE.Bench.Data;

/// <summary>
/// Encoding throughput on one thread, in MB/s of UTF-8 input, against the 5 MB/s per core target;
/// the reference measured in the same run is the pre-tokenizer alone (the floor that caching
/// cannot remove).
/// </summary>
internal static class TokenizerBenchmark
{
    public static void Run(IReadOnlyList<byte[]> documents, int vocabSize)
    {
        var total = documents.Sum(d => (long)d.Length);
        Console.WriteLine($"tokenizer: {documents.Count} documents, {total / 1e6:F1} MB, training a {vocabSize}-token vocabulary");
        var sw = Stopwatch.StartNew();
        var trainer = new BpeTrainer(vocabSize);
        foreach (var d in documents) trainer.Add(d);
        var tokenizer = trainer.Train();
        Console.WriteLine($"  train: {sw.Elapsed.TotalSeconds:F1} s ({trainer.DistinctWords} distinct pre-tokens, {tokenizer.Merges.Count} merges)");

        var preTokenizeMbps = Measure(documents, total, d =>
        {
            var n = 0;
            for (var at = 0; at < d.Length; n++) at += Gpt2PreTokenizer.NextLength(d, at);
            return n;
        });
        long tokens = 0;
        var coldMbps = Measure(documents, total, d => tokenizer.Encode(d).Length);
        var warmMbps = Measure(documents, total, d =>
        {
            var n = tokenizer.Encode(d).Length;
            tokens += n;
            return n;
        });
        Console.WriteLine($"  pre-tokenizer alone: {preTokenizeMbps,7:F1} MB/s (reference)");
        Console.WriteLine($"  encode, cold cache:  {coldMbps,7:F1} MB/s");
        Console.WriteLine($"  encode, warm cache:  {warmMbps,7:F1} MB/s  = {warmMbps / preTokenizeMbps:F2} x pre-tokenizer, {warmMbps / 5.0:F2} x the 5 MB/s target");
        Console.WriteLine($"  {total / (double)tokens:F2} bytes per token");
        CheckRoundTrip(tokenizer, documents);
    }

    private static double Measure(IReadOnlyList<byte[]> documents, long total, Func<byte[], int> work)
    {
        var sw = Stopwatch.StartNew();
        long sink = 0;
        foreach (var d in documents) sink += work(d);
        GC.KeepAlive(sink);
        return total / 1e6 / sw.Elapsed.TotalSeconds;
    }

    private static void CheckRoundTrip(BpeTokenizer tokenizer, IReadOnlyList<byte[]> documents)
    {
        foreach (var d in documents.Take(200))
        {
            if (!tokenizer.Decode(tokenizer.Encode(d)).AsSpan().SequenceEqual(d))
                throw new InvalidOperationException("round trip failed: " + Encoding.UTF8.GetString(d[..Math.Min(80, d.Length)]));
        }
    }
}
