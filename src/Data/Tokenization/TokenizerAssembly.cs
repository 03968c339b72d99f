namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// Turns the string form shared by <c>tokenizer.json</c> and <c>vocab.json</c>/<c>merges.txt</c>
/// (tokens spelled in <see cref="ByteLevelAlphabet"/>) into a <see cref="BpeTokenizer"/> and back.
/// </summary>
internal static class TokenizerAssembly
{
    public static BpeTokenizer Build(Dictionary<string, int> vocab, List<(string Left, string Right)> merges,
        List<SpecialToken> specials, bool addPrefixSpace, bool ignoreMerges, string path, string vocabField, string mergesField)
    {
        var specialById = specials.ToDictionary(s => s.Id, s => s.Content);
        var size = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        var tokenBytes = new byte[]?[size];
        var owner = new Dictionary<int, string>();
        foreach (var (text, id) in vocab)
        {
            if (owner.TryGetValue(id, out var other))
                throw new TokenizerFormatException(path, $"'{vocabField}' gives id {id} to both '{other}' and '{text}'");
            owner[id] = text;
            if (specialById.TryGetValue(id, out var content) && content == text) continue;
            if (!ByteLevelAlphabet.TryDecode(text, out var bytes) || bytes.Length == 0)
                throw new TokenizerFormatException(path,
                    $"'{vocabField}' entry '{text}' (id {id}) is not a byte-level token (its characters must come from GPT-2's byte alphabet) and is not an added token");
            tokenBytes[id] = bytes;
        }

        var mergeIds = new List<(int, int)>(merges.Count);
        for (var i = 0; i < merges.Count; i++)
        {
            var (left, right) = merges[i];
            if (!vocab.TryGetValue(left, out var l) || !vocab.TryGetValue(right, out var r))
                throw new TokenizerFormatException(path, $"'{mergesField}' entry {i} ('{left} {right}') uses a token that is not in the vocabulary");
            mergeIds.Add((l, r));
        }
        try
        {
            return new BpeTokenizer(tokenBytes, mergeIds, specials, addPrefixSpace, ignoreMerges);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerFormatException(path, e.Message);
        }
    }

    /// <summary>A merge written as "left right": byte-level tokens never contain a literal space.</summary>
    public static (string, string) SplitMergeLine(string line, string path, string where)
    {
        var space = line.IndexOf(' ');
        if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
            throw new TokenizerFormatException(path, $"{where}: '{line}' is not two tokens separated by one space");
        return (line[..space], line[(space + 1)..]);
    }

    /// <summary>Every token as (string, id) in id order: byte-level spelling for ordinary tokens, the content for special ones.</summary>
    public static IEnumerable<(string Text, int Id)> VocabEntries(BpeTokenizer tokenizer)
    {
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            var special = tokenizer.IsSpecial(id) ? tokenizer.SpecialTokens.Values.First(s => s.Id == id) : null;
            if (special is not null)
            {
                yield return (special.Content, id);
                continue;
            }
            var bytes = tokenizer.TokenBytes(id);
            if (bytes is not null) yield return (ByteLevelAlphabet.Encode(bytes), id);
        }
    }
}
