using System.Diagnostics;
using Orleans.MoE.Data.Corpora;

namespace Orleans.MoE.Bench.Data;

/// <summary>Prepares the built-in corpus with its default caps and prints the time taken and the manifest figures.</summary>
internal static class CorpusBenchmark
{
    public static PreparedCorpus Run(string outputDirectory, int vocabSize)
    {
        var sw = Stopwatch.StartNew();
        var corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
        {
            Sources = [new BuiltInCorpus(log: Console.Out)],
            OutputDirectory = outputDirectory,
            VocabSize = vocabSize,
            Log = Console.Out,
        });
        Console.WriteLine($"corpus: prepared in {sw.Elapsed.TotalSeconds:F1} s at {outputDirectory}");
        Console.WriteLine($"  {"domain",-14} {"train docs",10} {"train MB",9} {"train tok",10} {"val docs",9} {"val tok",9}");
        foreach (var d in corpus.Manifest.Domains)
            Console.WriteLine($"  {d.Domain,-14} {d.Train.Documents,10} {d.Train.Bytes / 1e6,9:F2} {d.Train.Tokens,10} {d.Validation.Documents,9} {d.Validation.Tokens,9}");
        var m = corpus.Manifest;
        Console.WriteLine($"  {"total",-14} {m.Train.Documents,10} {m.Train.Bytes / 1e6,9:F2} {m.Train.Tokens,10} {m.Validation.Documents,9} {m.Validation.Tokens,9}");
        Console.WriteLine($"  removed: {m.DuplicateDocumentsRemoved} duplicates, {m.EmptyDocumentsRemoved} empty");
        return corpus;
    }
}
