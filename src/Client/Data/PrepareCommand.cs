using System.CommandLine;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Tokenization;

namespace Orleans.MoE.Client.Data;

/// <summary>`moe prepare`: a corpus (built-in or the user's) to token shards with a manifest.</summary>
internal static class PrepareCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "Directory to write, replaced as a whole: it must be new, empty, or a prepared corpus written before.", Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace --out even when it holds something else." };
        var corpus = new Option<string[]>("--corpus")
        {
            Description = "Corpus files or directories (.txt, .md, .jsonl, optionally .gz). Default: the built-in Debian corpus.",
            AllowMultipleArgumentsPerToken = true,
        };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "A Hugging Face tokenizer.json to use instead of training one." };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary of the tokenizer trained when none is given.", DefaultValueFactory = _ => 8192 };
        var maxBytes = new Option<long>("--max-bytes-per-domain")
        {
            Description = "Cap per domain of the built-in corpus.",
            DefaultValueFactory = _ => BuiltInCorpus.DefaultMaxBytesPerDomain,
        };
        var validation = new Option<double>("--validation-fraction") { Description = "Share of documents held out.", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the train/validation split.", DefaultValueFactory = _ => 0 };

        var command = new Command("prepare", "Prepare a corpus: deduplicate, split, tokenize, write token shards and a manifest.");
        foreach (var option in new Option[] { output, force, corpus, tokenizer, vocab, maxBytes, validation, seed }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(corpus) ?? [];
            IReadOnlyList<ICorpusSource> sources = paths.Length == 0
                ? [new BuiltInCorpus(maxBytesPerDomain: parse.GetValue(maxBytes))]
                : paths.Select(p => (ICorpusSource)new UserCorpus(p)).ToList();
            var tokenizerFile = parse.GetValue(tokenizer);
            var prepared = CorpusPreparation.Prepare(new CorpusPreparationOptions
            {
                Sources = sources,
                OutputDirectory = parse.GetValue(output)!.FullName,
                Force = parse.GetValue(force),
                Tokenizer = tokenizerFile is null ? null : HuggingFaceTokenizerJson.Load(tokenizerFile.FullName),
                VocabSize = parse.GetValue(vocab),
                ValidationFraction = parse.GetValue(validation),
                Seed = parse.GetValue(seed),
                Log = Console.Out,
            });
            var m = prepared.Manifest;
            Console.WriteLine($"train: {m.Train.Documents} documents, {m.Train.Tokens} tokens; validation: {m.Validation.Documents} documents, " +
                              $"{m.Validation.Tokens} tokens; vocabulary {m.VocabSize}");
            Console.WriteLine($"prepared corpus written to {prepared.Directory}");
            return 0;
        });
        return command;
    }
}
