using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Data.Tokenization;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Corpora;

/// <summary>What to prepare: sources, tokenizer (given, or trained on the training split), split and output.</summary>
public sealed class CorpusPreparationOptions
{
    public required IReadOnlyList<ICorpusSource> Sources { get; init; }

    /// <summary>
    /// The directory to write, replaced as a whole; if it exists it must be empty or a prepared corpus
    /// (see <see cref="Orleans.MoE.Torch.Serialization.OutputDirectory"/>), unless <see cref="Force"/>.
    /// </summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Replace <see cref="OutputDirectory"/> even when it holds something other than a prepared corpus.</summary>
    public bool Force { get; init; }

    /// <summary>A ready tokenizer; when null one is trained on the training documents.</summary>
    public BpeTokenizer? Tokenizer { get; init; }

    /// <summary>Vocabulary size of the tokenizer trained when none is given.</summary>
    public int VocabSize { get; init; } = 8192;

    /// <summary>The expected share of documents in the validation split (chosen by content hash).</summary>
    public double ValidationFraction { get; init; } = 0.05;

    public ulong Seed { get; init; }

    /// <summary>Appends the tokenizer's end-of-text token to every document (when it has one).</summary>
    public bool AppendEndOfText { get; init; } = true;

    public TextWriter? Log { get; init; }
}

/// <summary>
/// Turns corpus sources into a prepared corpus directory:
/// <c>tokenizer.json</c>, <c>train.tokens</c> and <c>validation.tokens</c> (token shards, one shard
/// document per corpus document), <c>documents.jsonl</c> (each document's split, shard index, id,
/// domain, licence, bytes and tokens) and <c>manifest.json</c>.
/// <para>
/// Empty and exactly duplicated documents (same bytes, first one kept) are removed; the split is
/// decided per document by a seeded hash of its content, so it does not depend on the order of the
/// sources. Everything is written under a temporary name and renamed into place at the end: a
/// failure (bad input, a full disk) leaves no half-written corpus.
/// </para>
/// </summary>
public static class CorpusPreparation
{
    public const string TokenizerFile = "tokenizer.json";
    public const string DocumentsFile = "documents.jsonl";
    public const string ManifestFile = "manifest.json";

    public static string ShardFile(string split) => $"{split}.tokens";

    /// <summary>What <see cref="Prepare"/> writes, as its output directory's marker records it.</summary>
    public static readonly OutputKind Output = new("prepared-corpus", "a prepared corpus (moe prepare)",
        [ManifestFile, TokenizerFile, "train.tokens"], ReplacedAsAWhole: true);

    public static PreparedCorpus Prepare(CorpusPreparationOptions options)
    {
        if (options.ValidationFraction is < 0 or >= 1)
            throw new ArgumentException($"the validation fraction must be in [0, 1), not {options.ValidationFraction}", nameof(options));
        if (options.Sources.Count == 0) throw new ArgumentException("no corpus sources were given", nameof(options));
        if (options.Tokenizer is null) _ = new BpeTrainer(options.VocabSize);   // checks the size before any work
        var output = Torch.Serialization.OutputDirectory.Claim(options.OutputDirectory, Output, options.Force,
            options.Sources.OfType<UserCorpus>().Select(s => s.Name));
        var log = options.Log;

        var (documents, empty, duplicates) = ReadDistinct(options.Sources);
        log?.WriteLine($"corpus: {documents.Count} documents ({empty} empty and {duplicates} duplicates removed)");
        var isValidation = AssignSplits(documents, options.ValidationFraction, options.Seed);

        var tokenizer = options.Tokenizer ?? TrainTokenizer(documents, isValidation, options.VocabSize, log);
        var endOfText = options.AppendEndOfText ? tokenizer.EndOfTextId : null;
        var tokens = new int[documents.Count][];
        Parallel.For(0, documents.Count, i =>
        {
            var ids = new List<int>(documents[i].Text.Length / 3 + 2);
            tokenizer.Encode(documents[i].Text, ids);
            if (endOfText is { } eot) ids.Add(eot);
            tokens[i] = ids.ToArray();
        });

        var records = new List<DocumentRecord>(documents.Count);
        var boundaries = Boundaries(options.Sources);
        output.Replace(directory =>
        {
            HuggingFaceTokenizerJson.Save(tokenizer, Path.Combine(directory, TokenizerFile));
            foreach (var split in new[] { CorpusSplits.Train, CorpusSplits.Validation })
            {
                var wantValidation = split == CorpusSplits.Validation;
                using var writer = new TokenShardWriter(Path.Combine(directory, ShardFile(split)), tokenizer.VocabSize);
                for (var i = 0; i < documents.Count; i++)
                {
                    if (isValidation[i] != wantValidation) continue;
                    var d = documents[i];
                    records.Add(new DocumentRecord(split, writer.DocumentCount, d.Id, d.Domain, d.Licence, d.Text.Length, tokens[i].Length));
                    writer.AddDocument(tokens[i]);
                }
                writer.Complete();
            }
            WriteDocuments(Path.Combine(directory, DocumentsFile), records);
            var manifest = BuildManifest(options, tokenizer, records, boundaries, empty, duplicates, endOfText is not null);
            AtomicFile.Write(Path.Combine(directory, ManifestFile), s => JsonSerializer.Serialize(s, manifest, CorpusManifest.Json));
        });
        log?.WriteLine($"corpus: wrote {options.OutputDirectory}");
        return PreparedCorpus.Open(options.OutputDirectory);
    }

    private static (List<CorpusDocument> Documents, long Empty, long Duplicates) ReadDistinct(IReadOnlyList<ICorpusSource> sources)
    {
        var seen = new HashSet<UInt128>();
        var documents = new List<CorpusDocument>();
        long empty = 0, duplicates = 0;
        Span<byte> digest = stackalloc byte[32];
        foreach (var source in sources)
        {
            foreach (var document in source.ReadDocuments())
            {
                if (document.Text.Length == 0)
                {
                    empty++;
                    continue;
                }
                SHA256.HashData(document.Text, digest);
                if (!seen.Add(new UInt128(BitConverter.ToUInt64(digest), BitConverter.ToUInt64(digest[8..])))) duplicates++;
                else documents.Add(document);
            }
        }
        if (documents.Count == 0)
            throw new CorpusFormatException(string.Join(", ", sources.Select(s => s.Name)), "the corpus holds no documents (after removing empty ones); add text files or check the paths");
        return (documents, empty, duplicates);
    }

    /// <summary>
    /// A document goes to validation when the seeded hash of its content falls below the fraction.
    /// With a positive fraction and at least two documents, each split gets at least one document.
    /// </summary>
    private static bool[] AssignSplits(List<CorpusDocument> documents, double fraction, ulong seed)
    {
        var score = new double[documents.Count];
        var isValidation = new bool[documents.Count];
        Span<byte> keyed = stackalloc byte[8];
        for (var i = 0; i < documents.Count; i++)
        {
            BitConverter.TryWriteBytes(keyed, seed);
            var hash = StableOrder.Hash([.. keyed, .. documents[i].Text]);
            score[i] = (hash >> 11) * (1.0 / (1UL << 53));
            isValidation[i] = score[i] < fraction;
        }
        if (fraction > 0 && documents.Count >= 2)
        {
            var order = Enumerable.Range(0, documents.Count).OrderBy(i => score[i]).ToArray();
            if (!isValidation.Contains(true)) isValidation[order[0]] = true;
            if (!isValidation.Contains(false)) isValidation[order[^1]] = false;
        }
        return isValidation;
    }

    private static BpeTokenizer TrainTokenizer(List<CorpusDocument> documents, bool[] isValidation, int vocabSize, TextWriter? log)
    {
        var trainer = new BpeTrainer(vocabSize);
        for (var i = 0; i < documents.Count; i++)
            if (!isValidation[i]) trainer.Add(documents[i].Text);
        log?.WriteLine($"tokenizer: training a {vocabSize}-token vocabulary on {trainer.DistinctWords} distinct pre-tokens");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var tokenizer = trainer.Train();
        log?.WriteLine($"tokenizer: {tokenizer.Merges.Count} merges learned in {clock.Elapsed.TotalSeconds:F1} s");
        return tokenizer;
    }

    private static Dictionary<string, string> Boundaries(IReadOnlyList<ICorpusSource> sources)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            IEnumerable<DebianCorpusDomain> domains = source switch
            {
                BuiltInCorpus b => b.Domains,
                DebianCorpusDomain d => [d],
                _ => [],
            };
            foreach (var d in domains) result.TryAdd(d.Domain, d.Boundary);
        }
        return result;
    }

    private static void WriteDocuments(string path, List<DocumentRecord> records)
    {
        AtomicFile.Write(path, stream =>
        {
            var options = new JsonSerializerOptions(CorpusManifest.Json) { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            foreach (var r in records)
            {
                JsonSerializer.Serialize(stream, r, options);
                stream.WriteByte((byte)'\n');
            }
        });
    }

    private static CorpusManifest BuildManifest(CorpusPreparationOptions options, BpeTokenizer tokenizer, List<DocumentRecord> records,
        Dictionary<string, string> boundaries, long empty, long duplicates, bool endOfText)
    {
        var domains = new List<DomainStatistics>();
        foreach (var group in records.GroupBy(r => r.Domain).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var train = Sum(group.Where(r => r.Split == CorpusSplits.Train));
            var validation = Sum(group.Where(r => r.Split == CorpusSplits.Validation));
            var licences = string.Join("; ", group.Select(r => r.Licence).Distinct().Order(StringComparer.Ordinal));
            domains.Add(new DomainStatistics(group.Key, licences, boundaries.GetValueOrDefault(group.Key, "one user file or JSONL line"), train, validation));
        }
        return new CorpusManifest(CorpusManifest.CurrentFormatVersion, options.Sources.Select(s => s.Name).ToList(), tokenizer.VocabSize,
            endOfText, options.ValidationFraction, options.Seed, empty, duplicates, domains,
            Sum(records.Where(r => r.Split == CorpusSplits.Train)), Sum(records.Where(r => r.Split == CorpusSplits.Validation)));
    }

    private static SplitStatistics Sum(IEnumerable<DocumentRecord> records) =>
        records.Aggregate(SplitStatistics.Empty, (s, r) => s.Add(r.Bytes, r.Tokens));
}
