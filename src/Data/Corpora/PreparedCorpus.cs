using System.Text.Json;
using Orleans.MoE.Data.Tokenization;

namespace Orleans.MoE.Data.Corpora;

/// <summary>A corpus directory written by <see cref="CorpusPreparation"/>, opened for reading.</summary>
public sealed class PreparedCorpus
{
    private PreparedCorpus(string directory, CorpusManifest manifest, IReadOnlyList<DocumentRecord> documents)
    {
        Directory = directory;
        Manifest = manifest;
        Documents = documents;
    }

    public string Directory { get; }

    public CorpusManifest Manifest { get; }

    /// <summary>Every document, training split first, each in shard order.</summary>
    public IReadOnlyList<DocumentRecord> Documents { get; }

    public string TokenizerPath => Path.Combine(Directory, CorpusPreparation.TokenizerFile);

    public string ShardPath(string split) => Path.Combine(Directory, CorpusPreparation.ShardFile(split));

    public BpeTokenizer LoadTokenizer() => HuggingFaceTokenizerJson.Load(TokenizerPath);

    /// <summary>The documents of one split, in shard order (record i is shard document i).</summary>
    public IReadOnlyList<DocumentRecord> DocumentsOf(string split) => Documents.Where(d => d.Split == split).ToList();

    public static PreparedCorpus Open(string directory)
    {
        var manifestPath = Path.Combine(directory, CorpusPreparation.ManifestFile);
        if (!File.Exists(manifestPath))
            throw new CorpusFormatException(directory, $"not a prepared corpus: {CorpusPreparation.ManifestFile} is missing");
        CorpusManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CorpusManifest>(File.ReadAllBytes(manifestPath), CorpusManifest.Json)
                       ?? throw new JsonException("the manifest is null");
        }
        catch (JsonException e)
        {
            throw new CorpusFormatException(manifestPath, $"not a valid manifest ({e.Message})", e);
        }
        if (manifest.FormatVersion != CorpusManifest.CurrentFormatVersion)
            throw new CorpusFormatException(manifestPath, $"format version {manifest.FormatVersion} is not supported (expected {CorpusManifest.CurrentFormatVersion}); prepare the corpus again");

        var documentsPath = Path.Combine(directory, CorpusPreparation.DocumentsFile);
        var documents = new List<DocumentRecord>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(documentsPath))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            try
            {
                documents.Add(JsonSerializer.Deserialize<DocumentRecord>(line, CorpusManifest.Json) ?? throw new JsonException("null record"));
            }
            catch (JsonException e)
            {
                throw new CorpusFormatException($"{documentsPath}:{lineNumber}", $"not a document record ({e.Message})", e);
            }
        }
        return new PreparedCorpus(Path.GetFullPath(directory), manifest, documents);
    }
}
