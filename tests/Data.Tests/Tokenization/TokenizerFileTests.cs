using System.Text;
using Orleans.MoE.Data.Tokenization;

namespace Orleans.MoE.Data.Tests.Tokenization;

public sealed class TokenizerFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static BpeTokenizer Trained()
    {
        var random = new Random(11);
        var trainer = new BpeTrainer(700);
        for (var i = 0; i < 200; i++) trainer.Add(RandomText.Next(random, 300));
        trainer.Add("Ünïcödé façade: the naïve café's crème brûlée, 42 times. Привет, мир! 你好 😀");
        return trainer.Train();
    }

    private static string[] Samples()
    {
        var random = new Random(12);
        return Enumerable.Range(0, 50).Select(_ => RandomText.Next(random, 200))
            .Append("Ünïcödé façade: the naïve café's crème brûlée").ToArray();
    }

    [Fact]
    public void TokenizerJsonWrittenThenReadEncodesIdentically()
    {
        var original = Trained();
        var path = Path.Combine(_dir, "tokenizer.json");
        HuggingFaceTokenizerJson.Save(original, path);
        var loaded = HuggingFaceTokenizerJson.Load(path);

        Assert.Equal(original.VocabSize, loaded.VocabSize);
        Assert.Equal(original.Merges, loaded.Merges);
        Assert.Equal(original.EndOfTextId, loaded.EndOfTextId);
        foreach (var text in Samples()) Assert.Equal(original.Encode(text), loaded.Encode(text));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));

        var json = File.ReadAllText(path);
        Assert.Contains("\"type\": \"BPE\"", json);
        Assert.Contains("\"type\": \"ByteLevel\"", json);
    }

    [Fact]
    public void Gpt2FilesWrittenThenReadEncodeIdentically()
    {
        var original = Trained();
        var vocab = Path.Combine(_dir, "vocab.json");
        var merges = Path.Combine(_dir, "merges.txt");
        Gpt2VocabFiles.Save(original, vocab, merges);
        var loaded = Gpt2VocabFiles.Load(vocab, merges);
        Assert.Equal(original.EndOfTextId, loaded.EndOfTextId);
        foreach (var text in Samples()) Assert.Equal(original.Encode(text), loaded.Encode(text));
    }

    [Fact]
    public void Gpt2FilePairEncodesKnownIds()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2-small");
        var tokenizer = Gpt2VocabFiles.Load(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));

        // "hello": h e l l o -> (h e) -> (l l) -> (he ll) -> (hell o) = 12.
        // " world": Ġ w o r l d -> (Ġ w) -> (o r) -> (Ġw or) -> (l d) -> (Ġwor ld) = 17. "!" = 0.
        Assert.Equal([12, 17, 0], tokenizer.Encode("hello world!"));
        // "held": (h e) then (l d): [he, ld] = [9, 16]; the lone space of "  world" stays Ġ = 8.
        Assert.Equal([9, 16, 8, 17], tokenizer.Encode("held  world"));
        Assert.Equal(18, tokenizer.EndOfTextId);
        Assert.Equal("hello world!", tokenizer.DecodeToString([12, 17, 0]));

        var e = Assert.Throws<InvalidOperationException>(() => tokenizer.Encode("why"));
        Assert.Contains("0x79", e.Message);
    }

    /// <summary>
    /// The reference: ids computed by Hugging Face's own tokenizer (tokenizers.js) for a tokenizer.json
    /// written by this library; Fixtures/hf-reference/generate.mjs made expected.json.
    /// </summary>
    [Fact]
    public void EncodesAsHuggingFaceDoes()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "hf-reference");
        var tokenizer = HuggingFaceTokenizerJson.Load(Path.Combine(dir, "tokenizer.json"));
        var texts = System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(dir, "texts.json")))!;
        var expected = System.Text.Json.JsonSerializer.Deserialize<int[][]>(File.ReadAllText(Path.Combine(dir, "expected.json")))!;
        Assert.Equal(texts.Length, expected.Length);
        for (var i = 0; i < texts.Length; i++) Assert.Equal(expected[i], tokenizer.Encode(texts[i]));
    }

    [Fact]
    public void ReadsMergesWrittenAsPairs()
    {
        var path = Path.Combine(_dir, "pairs.json");
        File.WriteAllText(path, """
            {"added_tokens": [{"id": 5, "content": "<|endoftext|>", "special": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}]},
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġab": 4, "<|endoftext|>": 5},
                       "merges": [["a", "b"], ["Ġ", "ab"]]}}
            """);
        var tokenizer = HuggingFaceTokenizerJson.Load(path);
        Assert.True(tokenizer.AddPrefixSpace);
        Assert.Equal([4, 4], tokenizer.Encode("ab ab"));
        Assert.Equal(5, tokenizer.EndOfTextId);
    }

    [Theory]
    [InlineData("""{"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""", "'normalizer'")]
    [InlineData("""{"pre_tokenizer": {"type": "Whitespace"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""", "'pre_tokenizer'")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "WordPiece", "vocab": {}}}""", "'model.type'")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a z"]}}""", "'model.merges' entry 0")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a b": 0}, "merges": []}}""", "'a b'")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}""", "not in the vocabulary")]
    [InlineData("""{"pre_tokenizer": """, "not valid JSON")]
    public void RefusesUnsupportedOrBrokenFilesNamingTheProblem(string json, string expected)
    {
        var path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, json, Encoding.UTF8);
        var e = Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizerJson.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var path = Path.Combine(_dir, "absent.json");
        var e = Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizerJson.Load(path));
        Assert.Contains(path, e.Message);
    }
}
