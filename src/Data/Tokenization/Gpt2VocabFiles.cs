using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// Reads and writes the original GPT-2 tokenizer files: <c>vocab.json</c> (byte-level token string
/// to id) and <c>merges.txt</c> (an optional "#version" line, then one "left right" merge per line in
/// rank order). These files carry no list of special tokens; a vocabulary entry
/// <c>&lt;|endoftext|&gt;</c> is taken as the special end-of-text token, as GPT-2 uses it.
/// </summary>
public static class Gpt2VocabFiles
{
    public static BpeTokenizer Load(string vocabPath, string mergesPath)
    {
        var vocab = ReadVocab(vocabPath);
        var merges = ReadMerges(mergesPath);
        var specials = vocab.TryGetValue(BpeTokenizer.EndOfText, out var eot)
            ? new List<SpecialToken> { new(eot, BpeTokenizer.EndOfText) }
            : [];
        return TokenizerAssembly.Build(vocab, merges, specials, addPrefixSpace: false, ignoreMerges: false,
            $"{vocabPath} + {mergesPath}", "vocab.json", "merges.txt");
    }

    private static Dictionary<string, int> ReadVocab(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(bytes);
            return vocab ?? throw new TokenizerFormatException(path, "expected a JSON object mapping token strings to ids, found null");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenizerFormatException(path, "file not found");
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"expected a JSON object mapping token strings to integer ids ({e.Message})");
        }
    }

    private static List<(string, string)> ReadMerges(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenizerFormatException(path, "file not found");
        }
        var merges = new List<(string, string)>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || (i == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            merges.Add(TokenizerAssembly.SplitMergeLine(line, path, $"line {i + 1}"));
        }
        return merges;
    }

    /// <summary>Writes both files atomically (each to a temporary file, flushed, then renamed).</summary>
    public static void Save(BpeTokenizer tokenizer, string vocabPath, string mergesPath)
    {
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        AtomicFile.Write(vocabPath, stream =>
        {
            using var json = new Utf8JsonWriter(stream, options);
            json.WriteStartObject();
            foreach (var (text, id) in TokenizerAssembly.VocabEntries(tokenizer)) json.WriteNumber(text, id);
            json.WriteEndObject();
        });
        AtomicFile.Write(mergesPath, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            writer.WriteLine("#version: 0.2");
            foreach (var (left, right) in tokenizer.Merges)
                writer.WriteLine($"{ByteLevelAlphabet.Encode(tokenizer.TokenBytes(left))} {ByteLevelAlphabet.Encode(tokenizer.TokenBytes(right))}");
        });
    }
}
