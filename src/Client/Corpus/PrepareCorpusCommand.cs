using System.CommandLine;
using Orleans.MoE.Data.Corpora;

namespace Orleans.MoE.Client.Corpus;

/// <summary>`moe prepare-corpus`: tokenizer, train.tokens and validation.tokens from the built-in corpus or user files.</summary>
internal static class PrepareCorpusCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write (replaced if it exists).", Required = true };
        var inputs = new Option<string[]>("--input")
        {
            Description = "User corpus files or directories (.txt, .md, .jsonl, optionally .gz); the built-in Debian corpus when absent.",
            AllowMultipleArgumentsPerToken = true,
        };
        var vocab = new Option<int>("--vocab-size") { Description = "Size of the BPE vocabulary trained on the training split.", DefaultValueFactory = _ => 8192 };
        var maxMb = new Option<double>("--max-mb-per-domain")
        {
            Description = "Cap on the text taken from each built-in domain, in MB.",
            DefaultValueFactory = _ => BuiltInCorpus.DefaultMaxBytesPerDomain / 1e6,
        };
        var validation = new Option<double>("--validation-fraction") { Description = "Expected share of documents held out.", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the train/validation split.", DefaultValueFactory = _ => 0 };

        var command = new Command("prepare-corpus", "Prepare a tokenised corpus directory for `moe train --data`.");
        foreach (var option in new Option[] { output, inputs, vocab, maxMb, validation, seed }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(inputs) ?? [];
            IReadOnlyList<ICorpusSource> sources = paths.Length == 0
                ? [new BuiltInCorpus(maxBytesPerDomain: (long)(parse.GetValue(maxMb) * 1e6), log: Console.Out)]
                : paths.Select(p => (ICorpusSource)new UserCorpus(p)).ToList();
            try
            {
                var corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
                {
                    Sources = sources,
                    OutputDirectory = parse.GetValue(output)!.FullName,
                    VocabSize = parse.GetValue(vocab),
                    ValidationFraction = parse.GetValue(validation),
                    Seed = parse.GetValue(seed),
                    Log = Console.Out,
                });
                var m = corpus.Manifest;
                Console.WriteLine($"train: {m.Train.Documents} documents, {m.Train.Tokens} tokens; validation: {m.Validation.Documents} documents, {m.Validation.Tokens} tokens; vocabulary {m.VocabSize}");
                return 0;
            }
            catch (Exception e) when (e is CorpusFormatException or DebianPackageException or IOException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
