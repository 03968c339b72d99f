using System.Collections.Concurrent;
using System.Text;

namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer (GPT-2 style): text is split into pre-tokens by
/// <see cref="Gpt2PreTokenizer"/>, each pre-token starts as one token per byte, and the merges are
/// applied in rank order. Every byte sequence encodes, and decoding returns exactly the bytes
/// encoded, so invalid UTF-8 round-trips too (as long as the vocabulary holds all 256 bytes).
/// <para>
/// Encoding is fast because pre-tokens repeat: each distinct pre-token is merged once and its ids
/// are cached (thread-safe, bounded). Instances are immutable apart from that cache and safe to share.
/// </para>
/// </summary>
public sealed class BpeTokenizer
{
    /// <summary>Pre-tokens longer than this are merged every time rather than cached.</summary>
    private const int MaxCachedWordBytes = 256;

    private const int MaxCachedWords = 1 << 20;

    private readonly byte[]?[] _tokenBytes;
    private readonly int[] _byteToId = new int[256];
    private readonly Dictionary<byte[], int> _idByBytes = new(ByteSequenceComparer.Instance);
    private readonly (int Left, int Right)[] _merges;
    private readonly MergeTable _mergeTable;
    private readonly ConcurrentDictionary<byte[], int[]> _cache = new(ByteSequenceComparer.Instance);
    private readonly ConcurrentDictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _cacheBySpan;
    private readonly HashSet<int> _specialIds = [];
    private int _cachedWords;

    /// <param name="tokenBytes">The bytes of each token, indexed by id; null for an unused id or one that is only a special token.</param>
    /// <param name="merges">The merges in rank order, as pairs of ids; each pair's concatenation must itself be a token.</param>
    /// <param name="specialTokens">Tokens that decode to their content and are inserted by id, never produced by merging.</param>
    /// <param name="addPrefixSpace">Prepends a space to input that does not start with one (Hugging Face's add_prefix_space).</param>
    /// <param name="ignoreMerges">A pre-token that is itself in the vocabulary becomes that one token without merging (Hugging Face's ignore_merges).</param>
    public BpeTokenizer(IReadOnlyList<byte[]?> tokenBytes, IReadOnlyList<(int Left, int Right)> merges,
        IReadOnlyList<SpecialToken>? specialTokens = null, bool addPrefixSpace = false, bool ignoreMerges = false)
    {
        specialTokens ??= [];
        var size = tokenBytes.Count;
        foreach (var s in specialTokens)
        {
            if (s.Id < 0) throw new ArgumentException($"special token '{s.Content}' has a negative id {s.Id}", nameof(specialTokens));
            size = Math.Max(size, s.Id + 1);
        }
        _tokenBytes = new byte[]?[size];
        Array.Fill(_byteToId, -1);
        for (var id = 0; id < tokenBytes.Count; id++)
        {
            var bytes = tokenBytes[id];
            if (bytes is null) continue;
            if (bytes.Length == 0) throw new ArgumentException($"token {id} has no bytes", nameof(tokenBytes));
            _tokenBytes[id] = bytes;
            if (!_idByBytes.TryAdd(bytes, id))
                throw new ArgumentException($"tokens {_idByBytes[bytes]} and {id} have the same bytes '{ByteLevelAlphabet.Encode(bytes)}'", nameof(tokenBytes));
            if (bytes.Length == 1) _byteToId[bytes[0]] = id;
        }

        var special = new Dictionary<string, SpecialToken>(StringComparer.Ordinal);
        foreach (var s in specialTokens)
        {
            if (!special.TryAdd(s.Content, s)) throw new ArgumentException($"special token '{s.Content}' is listed twice", nameof(specialTokens));
            _tokenBytes[s.Id] ??= Encoding.UTF8.GetBytes(s.Content);
            _specialIds.Add(s.Id);
        }
        SpecialTokens = special;

        _merges = merges.ToArray();
        var resolved = new List<(int, int, int)>(merges.Count);
        for (var rank = 0; rank < _merges.Length; rank++)
        {
            var (left, right) = _merges[rank];
            var leftBytes = BytesOf(left, $"merge {rank}");
            var rightBytes = BytesOf(right, $"merge {rank}");
            var joined = new byte[leftBytes.Length + rightBytes.Length];
            leftBytes.CopyTo(joined, 0);
            rightBytes.CopyTo(joined, leftBytes.Length);
            if (!_idByBytes.TryGetValue(joined, out var result))
                throw new ArgumentException(
                    $"merge {rank} ('{ByteLevelAlphabet.Encode(leftBytes)}' + '{ByteLevelAlphabet.Encode(rightBytes)}') produces a token that is not in the vocabulary", nameof(merges));
            resolved.Add((left, right, result));
        }
        _mergeTable = new MergeTable(resolved);
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
        AddPrefixSpace = addPrefixSpace;
        IgnoreMerges = ignoreMerges;
    }

    /// <summary>One more than the largest token id.</summary>
    public int VocabSize => _tokenBytes.Length;

    public IReadOnlyList<(int Left, int Right)> Merges => _merges;

    public IReadOnlyDictionary<string, SpecialToken> SpecialTokens { get; }

    public bool AddPrefixSpace { get; }

    public bool IgnoreMerges { get; }

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>, the document separator, when the tokenizer has it.</summary>
    public int? EndOfTextId => SpecialTokens.TryGetValue(EndOfText, out var t) ? t.Id : null;

    public const string EndOfText = "<|endoftext|>";

    internal MergeTable MergeTableForTests => _mergeTable;

    /// <summary>The bytes a token decodes to, or null for an unused id.</summary>
    public byte[]? TokenBytes(int id) => id >= 0 && id < _tokenBytes.Length ? _tokenBytes[id] : null;

    /// <summary>The id of the ordinary token with exactly these bytes, or null.</summary>
    public int? TokenId(ReadOnlySpan<byte> bytes) =>
        _idByBytes.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(bytes, out var id) ? id : null;

    /// <summary>True when the id is a special token.</summary>
    public bool IsSpecial(int id) => _specialIds.Contains(id);

    public int[] Encode(string text) => Encode(Encoding.UTF8.GetBytes(text));

    public int[] Encode(ReadOnlySpan<byte> text)
    {
        var output = new List<int>(text.Length / 3 + 4);
        Encode(text, output);
        return output.ToArray();
    }

    /// <summary>Appends the ids of the text to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<byte> text, List<int> output)
    {
        if (AddPrefixSpace && text.Length > 0 && text[0] != (byte)' ')
        {
            var prefixed = new byte[text.Length + 1];
            prefixed[0] = (byte)' ';
            text.CopyTo(prefixed.AsSpan(1));
            text = prefixed;
        }
        for (var at = 0; at < text.Length;)
        {
            var length = Gpt2PreTokenizer.NextLength(text, at);
            EncodeWord(text.Slice(at, length), output);
            at += length;
        }
    }

    private void EncodeWord(ReadOnlySpan<byte> word, List<int> output)
    {
        if (_cacheBySpan.TryGetValue(word, out var cached))
        {
            foreach (var id in cached) output.Add(id);
            return;
        }
        var ids = MergeWord(word);
        foreach (var id in ids) output.Add(id);
        if (word.Length <= MaxCachedWordBytes && Volatile.Read(ref _cachedWords) < MaxCachedWords && _cacheBySpan.TryAdd(word, ids))
            Interlocked.Increment(ref _cachedWords);
    }

    private int[] MergeWord(ReadOnlySpan<byte> word)
    {
        if (IgnoreMerges && _idByBytes.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(word, out var whole)) return [whole];
        var symbols = word.Length <= 256 ? stackalloc int[word.Length] : new int[word.Length];
        for (var i = 0; i < word.Length; i++)
        {
            var id = _byteToId[word[i]];
            if (id < 0)
                throw new InvalidOperationException($"byte 0x{word[i]:X2} has no token in this vocabulary, so the text cannot be encoded");
            symbols[i] = id;
        }
        var length = _mergeTable.Apply(symbols);
        return symbols[..length].ToArray();
    }

    public byte[] Decode(ReadOnlySpan<int> ids)
    {
        var total = 0;
        foreach (var id in ids) total += BytesOf(id, "decode").Length;
        var result = new byte[total];
        var at = 0;
        foreach (var id in ids)
        {
            var bytes = _tokenBytes[id]!;
            bytes.CopyTo(result, at);
            at += bytes.Length;
        }
        return result;
    }

    /// <summary>The decoded bytes as text; invalid UTF-8 becomes U+FFFD.</summary>
    public string DecodeToString(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(Decode(ids));

    private byte[] BytesOf(int id, string where)
    {
        if (id < 0 || id >= _tokenBytes.Length || _tokenBytes[id] is null)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"{where}: token id {id} is not in the vocabulary (size {_tokenBytes.Length})");
        return _tokenBytes[id]!;
    }
}
