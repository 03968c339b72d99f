using System.Text.Encodings.Web;
using System.Text.Json;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// Reads and writes Hugging Face's <c>tokenizer.json</c> for byte-level BPE models (GPT-2, RoBERTa,
/// and tokenizers trained with the <c>tokenizers</c> library's ByteLevelBPETokenizer).
/// <para>
/// What is read: <c>model</c> (type BPE, vocab, merges as "a b" strings or ["a", "b"] pairs,
/// ignore_merges), <c>added_tokens</c> (all become <see cref="SpecialToken"/>s, inserted by id and never
/// matched in text), and <c>pre_tokenizer</c>, which must be ByteLevel with the GPT-2 pattern, alone or
/// inside a Sequence (its add_prefix_space is honoured). A normalizer, a BPE with subword prefixes or
/// suffixes, byte fallback or another pre-tokenizer is refused with an error naming the field, since
/// encoding with it would silently differ. The post-processor and decoder are not needed to encode
/// and decode bytes and are not read.
/// </para>
/// </summary>
public static class HuggingFaceTokenizerJson
{
    public static BpeTokenizer Load(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenizerFormatException(path, "file not found");
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"not valid JSON ({e.Message})");
        }
        using (document)
        {
            return Read(document.RootElement, path);
        }
    }

    private static BpeTokenizer Read(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException(path, "the top level is not a JSON object");
        if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind != JsonValueKind.Null)
            throw new TokenizerFormatException(path, $"'normalizer' is {TypeOf(normalizer)}; only null is supported (byte-level BPE encodes the raw bytes)");
        var addPrefixSpace = ReadPreTokenizer(root, path);

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException(path, "missing 'model' object");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
        if (type != "BPE") throw new TokenizerFormatException(path, $"'model.type' is '{type}'; only 'BPE' is supported");
        foreach (var field in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() != "")
                throw new TokenizerFormatException(path, $"'model.{field}' is '{v.GetString()}'; byte-level BPE uses none");
        }
        if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
            throw new TokenizerFormatException(path, "'model.byte_fallback' is true; that is SentencePiece-style BPE, not byte-level BPE");
        var ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;

        var specials = ReadAddedTokens(root, path);
        var vocab = ReadVocab(model, path);
        var merges = ReadMerges(model, path);
        return TokenizerAssembly.Build(vocab, merges, specials, addPrefixSpace, ignoreMerges, path, "model.vocab", "model.merges");
    }

    /// <summary>Checks that the pre-tokenizer is byte-level with the GPT-2 pattern; returns its add_prefix_space.</summary>
    private static bool ReadPreTokenizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
            throw new TokenizerFormatException(path, "'pre_tokenizer' is missing; a ByteLevel pre-tokenizer is required");
        var steps = TypeOf(pre) == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToList()
            : [pre];
        if (steps.Count != 1 || TypeOf(steps[0]) != "ByteLevel")
            throw new TokenizerFormatException(path,
                $"'pre_tokenizer' is [{string.Join(", ", steps.Select(TypeOf))}]; only a single ByteLevel pre-tokenizer (GPT-2's pattern) is supported");
        var byteLevel = steps[0];
        if (byteLevel.TryGetProperty("use_regex", out var useRegex) && useRegex.ValueKind == JsonValueKind.False)
            throw new TokenizerFormatException(path, "'pre_tokenizer.use_regex' is false; only the GPT-2 pattern (use_regex: true) is supported");
        return byteLevel.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True;
    }

    private static List<SpecialToken> ReadAddedTokens(JsonElement root, string path)
    {
        var result = new List<SpecialToken>();
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null) return result;
        if (added.ValueKind != JsonValueKind.Array) throw new TokenizerFormatException(path, "'added_tokens' is not an array");
        var index = 0;
        foreach (var item in added.EnumerateArray())
        {
            if (!item.TryGetProperty("id", out var id) || !id.TryGetInt32(out var idValue) || idValue < 0
                || !item.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new TokenizerFormatException(path, $"'added_tokens[{index}]' needs a non-negative integer 'id' and a string 'content'");
            result.Add(new SpecialToken(idValue, content.GetString()!));
            index++;
        }
        return result;
    }

    private static Dictionary<string, int> ReadVocab(JsonElement model, string path)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException(path, "missing 'model.vocab' object");
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out var id) || id < 0)
                throw new TokenizerFormatException(path, $"'model.vocab' entry '{entry.Name}' must map to a non-negative integer id");
            result[entry.Name] = id;
        }
        return result;
    }

    private static List<(string, string)> ReadMerges(JsonElement model, string path)
    {
        var result = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind == JsonValueKind.Null) return result;
        if (merges.ValueKind != JsonValueKind.Array) throw new TokenizerFormatException(path, "'model.merges' is not an array");
        var index = 0;
        foreach (var item in merges.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                result.Add(TokenizerAssembly.SplitMergeLine(item.GetString()!, path, $"model.merges[{index}]"));
            }
            else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2
                     && item[0].ValueKind == JsonValueKind.String && item[1].ValueKind == JsonValueKind.String)
            {
                result.Add((item[0].GetString()!, item[1].GetString()!));
            }
            else
            {
                throw new TokenizerFormatException(path, $"'model.merges[{index}]' must be \"left right\" or [\"left\", \"right\"]");
            }
            index++;
        }
        return result;
    }

    private static string TypeOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : element.ValueKind.ToString();

    /// <summary>Writes the tokenizer atomically (temporary file, flush, rename).</summary>
    public static void Save(BpeTokenizer tokenizer, string path)
    {
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream, options);
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            foreach (var special in tokenizer.SpecialTokens.Values.OrderBy(s => s.Id))
            {
                json.WriteStartObject();
                json.WriteNumber("id", special.Id);
                json.WriteString("content", special.Content);
                json.WriteBoolean("single_word", false);
                json.WriteBoolean("lstrip", false);
                json.WriteBoolean("rstrip", false);
                json.WriteBoolean("normalized", false);
                json.WriteBoolean("special", true);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNull("normalizer");
            WriteByteLevel(json, "pre_tokenizer", tokenizer.AddPrefixSpace, trimOffsets: true);
            WriteByteLevel(json, "post_processor", tokenizer.AddPrefixSpace, trimOffsets: false);
            WriteByteLevel(json, "decoder", tokenizer.AddPrefixSpace, trimOffsets: true);

            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", tokenizer.IgnoreMerges);
            json.WriteStartObject("vocab");
            foreach (var (text, id) in TokenizerAssembly.VocabEntries(tokenizer)) json.WriteNumber(text, id);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            foreach (var (left, right) in tokenizer.Merges)
                json.WriteStringValue($"{ByteLevelAlphabet.Encode(tokenizer.TokenBytes(left))} {ByteLevelAlphabet.Encode(tokenizer.TokenBytes(right))}");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string name, bool addPrefixSpace, bool trimOffsets)
    {
        json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", addPrefixSpace);
        json.WriteBoolean("trim_offsets", trimOffsets);
        json.WriteBoolean("use_regex", true);
        json.WriteEndObject();
    }
}
