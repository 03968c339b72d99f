using System.Runtime.InteropServices;
using System.Text;

namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// Learns byte-level BPE merges from text. Text is split into pre-tokens with the GPT-2 pattern and
/// counted; then, until the vocabulary is full, the most frequent adjacent pair of tokens (the
/// smallest pair of ids on a tie, so training is deterministic) is merged into a new token.
/// <para>
/// Ids 0-255 are the 256 byte values, so every byte sequence is encodable; learned tokens follow
/// in merge order, and special tokens (by default <c>&lt;|endoftext|&gt;</c>) come last.
/// </para>
/// </summary>
public sealed class BpeTrainer
{
    private readonly Dictionary<byte[], long> _wordCounts = new(ByteSequenceComparer.Instance);

    /// <param name="vocabSize">The size of the resulting vocabulary, special tokens included (at least 256 + specials).</param>
    /// <param name="minFrequency">Pairs seen fewer times than this are not merged; training may then stop below vocabSize.</param>
    /// <param name="specialTokens">Tokens appended after the learned ones; null gives just <c>&lt;|endoftext|&gt;</c>.</param>
    public BpeTrainer(int vocabSize, int minFrequency = 2, IReadOnlyList<string>? specialTokens = null)
    {
        SpecialTokens = specialTokens ?? [BpeTokenizer.EndOfText];
        if (vocabSize < 256 + SpecialTokens.Count)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"a vocabulary of {vocabSize} tokens is too small: it needs the 256 byte tokens and {SpecialTokens.Count} special token(s), at least {256 + SpecialTokens.Count}");
        if (minFrequency < 1) throw new ArgumentOutOfRangeException(nameof(minFrequency), minFrequency, "must be at least 1");
        VocabSize = vocabSize;
        MinFrequency = minFrequency;
    }

    public int VocabSize { get; }

    public int MinFrequency { get; }

    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>Distinct pre-tokens counted so far.</summary>
    public int DistinctWords => _wordCounts.Count;

    public void Add(string text) => Add(Encoding.UTF8.GetBytes(text));

    /// <summary>Counts the pre-tokens of one piece of text (a document, usually).</summary>
    public void Add(ReadOnlySpan<byte> text)
    {
        var lookup = _wordCounts.GetAlternateLookup<ReadOnlySpan<byte>>();
        for (var at = 0; at < text.Length;)
        {
            var length = Gpt2PreTokenizer.NextLength(text, at);
            CollectionsMarshal.GetValueRefOrAddDefault(lookup, text.Slice(at, length), out _)++;
            at += length;
        }
    }

    public BpeTokenizer Train()
    {
        var tokens = new List<byte[]>(VocabSize);
        for (var b = 0; b < 256; b++) tokens.Add([(byte)b]);
        var idByBytes = new Dictionary<byte[], int>(ByteSequenceComparer.Instance);
        for (var b = 0; b < 256; b++) idByBytes[tokens[b]] = b;

        var words = new List<int[]>(_wordCounts.Count);
        var counts = new List<long>(_wordCounts.Count);
        foreach (var (word, count) in _wordCounts.OrderBy(kv => kv.Key, ByteOrder.Instance))
        {
            words.Add(Array.ConvertAll(word, b => (int)b));
            counts.Add(count);
        }

        var pairCounts = new Dictionary<long, long>();
        var wordsWithPair = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < words.Count; w++) AddPairs(words[w], counts[w], w, pairCounts, wordsWithPair, null);

        var heap = new PriorityQueue<long, (long NegativeCount, long Pair)>();
        foreach (var (pair, count) in pairCounts) heap.Enqueue(pair, (-count, pair));

        var merges = new List<(int, int)>();
        var learnedTarget = VocabSize - SpecialTokens.Count;
        var changed = new HashSet<long>();
        while (tokens.Count < learnedTarget && heap.TryDequeue(out var pair, out var priority))
        {
            var current = pairCounts.GetValueOrDefault(pair);
            if (current != -priority.NegativeCount)
            {
                if (current > 0) heap.Enqueue(pair, (-current, pair));
                continue;
            }
            if (current < MinFrequency) break;

            var (left, right) = Unpack(pair);
            var joined = tokens[left].Concat(tokens[right]).ToArray();
            if (!idByBytes.TryGetValue(joined, out var merged))
            {
                merged = tokens.Count;
                tokens.Add(joined);
                idByBytes[joined] = merged;
            }
            merges.Add((left, right));

            changed.Clear();
            foreach (var w in wordsWithPair[pair].ToArray())
            {
                var word = words[w];
                if (!Contains(word, left, right)) continue;
                AddPairs(word, -counts[w], w, pairCounts, null, changed);
                words[w] = word = MergeAll(word, left, right, merged);
                AddPairs(word, counts[w], w, pairCounts, wordsWithPair, changed);
            }
            foreach (var p in changed)
            {
                var count = pairCounts.GetValueOrDefault(p);
                if (count > 0) heap.Enqueue(p, (-count, p));
            }
        }

        var specials = new List<SpecialToken>(SpecialTokens.Count);
        foreach (var content in SpecialTokens) specials.Add(new SpecialToken(tokens.Count + specials.Count, content));
        return new BpeTokenizer(tokens, merges, specials);
    }

    private static long Pack(int left, int right) => ((long)left << 32) | (uint)right;

    private static (int Left, int Right) Unpack(long pair) => ((int)(pair >> 32), (int)pair);

    private static void AddPairs(int[] word, long count, int wordIndex, Dictionary<long, long> pairCounts,
        Dictionary<long, HashSet<int>>? wordsWithPair, HashSet<long>? changed)
    {
        for (var i = 0; i + 1 < word.Length; i++)
        {
            var pair = Pack(word[i], word[i + 1]);
            CollectionsMarshal.GetValueRefOrAddDefault(pairCounts, pair, out _) += count;
            changed?.Add(pair);
            if (wordsWithPair is not null)
            {
                ref var set = ref CollectionsMarshal.GetValueRefOrAddDefault(wordsWithPair, pair, out _);
                (set ??= []).Add(wordIndex);
            }
        }
    }

    private static bool Contains(int[] word, int left, int right)
    {
        for (var i = 0; i + 1 < word.Length; i++)
            if (word[i] == left && word[i + 1] == right) return true;
        return false;
    }

    /// <summary>Replaces every occurrence of (left, right), scanning left to right without overlaps.</summary>
    private static int[] MergeAll(int[] word, int left, int right, int merged)
    {
        var result = new List<int>(word.Length);
        for (var i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right)
            {
                result.Add(merged);
                i++;
            }
            else
            {
                result.Add(word[i]);
            }
        }
        return result.ToArray();
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
