using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Orleans.MoE.Data.Tokenization;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>Settings of <see cref="HashedNgramFeatures"/>.</summary>
public sealed record HashedNgramOptions
{
    /// <summary>Hash buckets of the sparse TF-IDF vectors (a power of two).</summary>
    public int Buckets { get; init; } = 1 << 20;

    /// <summary>Dimensions after the random projection (a multiple of 8).</summary>
    public int Dimensions { get; init; } = 256;

    /// <summary>Byte n-gram lengths (at most 8).</summary>
    public int MinByteN { get; init; } = 1;

    public int MaxByteN { get; init; } = 2;

    /// <summary>
    /// Also hash words (GPT-2 pre-tokens) and pairs of consecutive words. Off by default: on the
    /// built-in corpus, whose domains differ by language and kind of text, byte 1- and 2-grams
    /// separate domains best (NMI about 0.85 against 0.80 with words added); words help when
    /// clusters should follow topics within one language.
    /// </summary>
    public bool Words { get; init; }

    /// <summary>
    /// Buckets seen in fewer documents than this are left out: a feature of one document only says
    /// nothing about which documents belong together, and on short documents such rare features,
    /// with their high idf, would drown the shared ones.
    /// </summary>
    public int MinDocumentFrequency { get; init; } = 2;

    /// <summary>Seeds the projection matrix.</summary>
    public ulong Seed { get; init; }

    internal void Validate()
    {
        if (Buckets < 2 || (Buckets & (Buckets - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(Buckets), Buckets, "must be a power of two");
        if (Dimensions < 8 || Dimensions % 8 != 0) throw new ArgumentOutOfRangeException(nameof(Dimensions), Dimensions, "must be a positive multiple of 8");
        if (MinByteN < 1 || MaxByteN > 8 || MinByteN > MaxByteN) throw new ArgumentOutOfRangeException(nameof(MinByteN), "byte n-grams need 1 <= MinByteN <= MaxByteN <= 8");
    }
}

/// <summary>
/// Model-free document features: byte n-grams and words (and word pairs) hashed into a large
/// sparse vector, weighted by TF-IDF (sublinear term frequency 1 + ln tf, smoothed idf
/// ln((1 + N) / (1 + df)) + 1), scaled to unit length, then reduced by a seeded random projection
/// with ±1/√P entries (generated from the bucket number, never stored) and scaled to unit length
/// again. Result: (N, P) Float32 for <see cref="KMeans"/> with the cosine metric.
/// <para>Two passes over the documents (document frequencies, then vectors) keep memory at O(buckets + N·P).</para>
/// </summary>
public static class HashedNgramFeatures
{
    private static readonly Vector256<float>[] SignPatterns = BuildSignPatterns();

    private static Vector256<float>[] BuildSignPatterns()
    {
        var patterns = new Vector256<float>[256];
        Span<float> lanes = stackalloc float[8];
        for (var b = 0; b < 256; b++)
        {
            for (var lane = 0; lane < 8; lane++) lanes[lane] = ((b >> lane) & 1) == 0 ? 1f : -1f;
            patterns[b] = Vector256.Create<float>(lanes);
        }
        return patterns;
    }

    public static Tensor Compute(IReadOnlyList<byte[]> documents, HashedNgramOptions? options = null)
    {
        options ??= new HashedNgramOptions();
        if (documents.Count == 0) throw new ArgumentException("no documents to featurise", nameof(documents));
        return Compute(documents, options, DocumentFrequencies(documents, options), documents.Count);
    }

    /// <summary>
    /// In how many of the documents each bucket occurs (Buckets). Counts, so the counts of several
    /// shards of a corpus add up exactly to the corpus's, in any order.
    /// </summary>
    public static long[] DocumentFrequencies(IReadOnlyList<byte[]> documents, HashedNgramOptions options)
    {
        options.Validate();
        var mask = options.Buckets - 1;
        var documentFrequency = new long[options.Buckets];
        Parallel.For(0, documents.Count, () => new BucketCounter(), (i, _, counts) =>
        {
            Count(documents[i], options, mask, counts);
            for (var j = 0; j < counts.Count; j++) Interlocked.Increment(ref documentFrequency[counts[j].Bucket]);
            return counts;
        }, _ => { });
        return documentFrequency;
    }

    /// <summary>
    /// The features of some documents of a corpus of <paramref name="corpusDocuments"/> documents
    /// whose document frequencies are <paramref name="documentFrequency"/> (all of a shard's
    /// documents, weighted as in the whole corpus): (N, P).
    /// </summary>
    public static Tensor Compute(IReadOnlyList<byte[]> documents, HashedNgramOptions options, long[] documentFrequency, long corpusDocuments)
    {
        options.Validate();
        if (documentFrequency.Length != options.Buckets)
            throw new ArgumentException($"{documentFrequency.Length} document frequencies for {options.Buckets} buckets", nameof(documentFrequency));
        var n = documents.Count;
        var mask = options.Buckets - 1;
        var idf = new float[options.Buckets];
        for (var b = 0; b < idf.Length; b++)
            idf[b] = documentFrequency[b] < options.MinDocumentFrequency ? 0f : (float)(Math.Log((1.0 + corpusDocuments) / (1.0 + documentFrequency[b])) + 1.0);

        var p = options.Dimensions;
        var output = new float[(long)n * p];
        Parallel.For(0, n, () => new BucketCounter(), (i, _, counts) =>
        {
            Count(documents[i], options, mask, counts);
            Project(counts, idf, options, output.AsSpan((int)((long)i * p), p));
            return counts;
        }, _ => { });
        return Tensor.FromArray(output, n, p); // (N, P)
    }

    /// <summary>Term frequencies of one document by bucket (the dictionary is reused across documents).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // long loops: skip the slow first JIT tier
    private static void Count(byte[] text, HashedNgramOptions options, int mask, BucketCounter counts)
    {
        counts.Clear();
        void Add(ulong hash) => counts.Add((int)(Mix(hash) & (ulong)mask));

        for (var length = options.MinByteN; length <= options.MaxByteN; length++)
        {
            for (var i = 0; i + length <= text.Length; i++)
            {
                ulong packed = 0;
                for (var j = 0; j < length; j++) packed = (packed << 8) | text[i + j];
                Add(packed ^ ((ulong)length << 60));
            }
        }
        if (!options.Words) return;
        ulong previous = 0;
        for (var at = 0; at < text.Length;)
        {
            var length = Gpt2PreTokenizer.NextLength(text, at);
            var word = text.AsSpan(at, length).Trim((byte)' ');
            at += length;
            if (word.IsEmpty || word[0] is (byte)'\n' or (byte)'\t' or (byte)'\r') continue;
            var hash = 0xCBF29CE484222325UL; // FNV-1a
            foreach (var b in word) hash = (hash ^ b) * 0x100000001B3UL;
            Add(hash ^ 0x5555555555555555UL);
            if (previous != 0) Add(previous * 0x9E3779B97F4A7C15UL ^ hash ^ 0xAAAAAAAAAAAAAAAAUL);
            previous = hash;
        }
    }

    /// <summary>TF-IDF weights scaled to unit length, projected to P dimensions, and scaled to unit length again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Project(BucketCounter counts, float[] idf, HashedNgramOptions options, Span<float> destination)
    {
        var norm = 0.0;
        for (var j = 0; j < counts.Count; j++)
        {
            var (bucket, tf) = counts[j];
            var w = (1 + MathF.Log(tf)) * idf[bucket];
            norm += (double)w * w;
        }
        if (norm == 0) return;
        var scale = (float)(1.0 / Math.Sqrt(norm) / Math.Sqrt(destination.Length));

        var groups = destination.Length / 8;
        Span<Vector256<float>> sum = stackalloc Vector256<float>[groups];
        sum.Clear();
        for (var j = 0; j < counts.Count; j++)
        {
            var (bucket, tf) = counts[j];
            if (idf[bucket] == 0) continue;
            var weight = Vector256.Create((1 + MathF.Log(tf)) * idf[bucket] * scale);
            var state = options.Seed ^ ((ulong)bucket * 0xD1B54A32D192ED03UL);
            ulong bits = 0;
            for (var g = 0; g < groups; g++)
            {
                if (g % 8 == 0) bits = Mix(state += 0x9E3779B97F4A7C15UL);
                sum[g] += SignPatterns[(int)(bits & 0xFF)] * weight;
                bits >>= 8;
            }
        }
        var length = 0.0;
        for (var g = 0; g < groups; g++)
        {
            sum[g].CopyTo(destination.Slice(g * 8, 8));
            length += Vector256.Dot(sum[g], sum[g]);
        }
        if (length > 0)
        {
            var inverse = (float)(1.0 / Math.Sqrt(length));
            for (var i = 0; i < destination.Length; i++) destination[i] *= inverse;
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
