namespace Orleans.MoE.Data.Tokenization;

/// <summary>Loads a tokenizer from whichever supported format a path holds.</summary>
public static class TokenizerFiles
{
    /// <summary>
    /// A <c>tokenizer.json</c> file; or a directory holding <c>tokenizer.json</c>, or else
    /// <c>vocab.json</c> and <c>merges.txt</c>.
    /// </summary>
    public static BpeTokenizer Load(string path)
    {
        if (File.Exists(path)) return HuggingFaceTokenizerJson.Load(path);
        if (!Directory.Exists(path)) throw new TokenizerFormatException(path, "no such file or directory");
        var json = Path.Combine(path, "tokenizer.json");
        if (File.Exists(json)) return HuggingFaceTokenizerJson.Load(json);
        var vocab = Path.Combine(path, "vocab.json");
        var merges = Path.Combine(path, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges)) return Gpt2VocabFiles.Load(vocab, merges);
        throw new TokenizerFormatException(path, "the directory holds neither tokenizer.json nor vocab.json + merges.txt");
    }
}
