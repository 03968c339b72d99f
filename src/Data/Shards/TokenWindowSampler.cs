using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Shards;

/// <summary>
/// Cuts each shard into windows of T + 1 tokens that start every T tokens (consecutive windows share
/// one token, so every token is a target exactly once per epoch) and hands them out in a seeded
/// order: a fresh pseudo-random permutation per epoch when shuffling (training), shard order
/// otherwise (evaluation). Windows never cross from one shard into the next; they may cross
/// document boundaries, as in GPT-style pre-training on a stream of documents.
/// <para>Not thread-safe: one consumer reads a sampler.</para>
/// </summary>
public sealed class TokenWindowSampler : ITokenWindowSource, IDisposable
{
    private readonly IReadOnlyList<TokenShardReader> _shards;
    private readonly long[] _firstWindow; // _firstWindow[s]: global index of shard s's first window; last entry = total
    private readonly bool _ownsShards;
    private SeededPermutation? _order;
    private long _epoch;
    private long _index;

    public TokenWindowSampler(IReadOnlyList<TokenShardReader> shards, int contextLength, ulong seed, bool shuffle = true, bool ownsShards = false)
    {
        if (shards.Count == 0) throw new ArgumentException("no token shards were given", nameof(shards));
        if (contextLength <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "the context length must be positive");
        _shards = shards;
        _ownsShards = ownsShards;
        ContextLength = contextLength;
        Seed = seed;
        Shuffle = shuffle;
        VocabSize = shards[0].VocabSize;
        LargestTokenId = new LargestTokenId(shards[0].MaxTokenId, shards[0].Path);
        foreach (var s in shards)
        {
            if (s.VocabSize != VocabSize)
                throw new TokenShardFormatException(s.Path, $"vocabulary size {s.VocabSize} differs from {VocabSize} in {shards[0].Path}; shards of one source must share a tokenizer");
            if (s.MaxTokenId > LargestTokenId.Id) LargestTokenId = new LargestTokenId(s.MaxTokenId, s.Path);
        }

        _firstWindow = new long[shards.Count + 1];
        for (var s = 0; s < shards.Count; s++)
            _firstWindow[s + 1] = _firstWindow[s] + Math.Max(0, (shards[s].TokenCount - 1) / contextLength);
        WindowsPerEpoch = _firstWindow[^1];
        if (WindowsPerEpoch == 0)
            throw new ArgumentException(
                $"the shards hold no window of {contextLength + 1} tokens ({string.Join(", ", shards.Select(s => $"{s.Path}: {s.TokenCount} tokens"))}); use more data or a shorter context",
                nameof(shards));
        Fingerprint = ComputeFingerprint();
    }

    /// <summary>Opens the shards by path; the sampler owns and closes them.</summary>
    public static TokenWindowSampler Open(IEnumerable<string> paths, int contextLength, ulong seed, bool shuffle = true)
    {
        var readers = new List<TokenShardReader>();
        try
        {
            foreach (var p in paths) readers.Add(new TokenShardReader(p));
            return new TokenWindowSampler(readers, contextLength, seed, shuffle, ownsShards: true);
        }
        catch
        {
            foreach (var r in readers) r.Dispose();
            throw;
        }
    }

    public int ContextLength { get; }

    public int VocabSize { get; }

    public LargestTokenId LargestTokenId { get; }

    public ulong Seed { get; }

    public bool Shuffle { get; }

    public long WindowsPerEpoch { get; }

    /// <summary>A hash of the shard sizes, context length, seed and order mode.</summary>
    public ulong Fingerprint { get; }

    public TokenWindowPosition Position => new(_epoch, _index, Fingerprint);

    public void Seek(TokenWindowPosition position)
    {
        if (position.Fingerprint != Fingerprint)
            throw new ArgumentException(
                $"data position {position} was saved for other data or settings (fingerprint {Fingerprint:x16} here: {_shards.Count} shards, context {ContextLength}, seed {Seed}, shuffle {Shuffle})",
                nameof(position));
        if (position.Epoch < 0 || position.Index < 0 || position.Index > WindowsPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"an epoch holds {WindowsPerEpoch} windows");
        _epoch = position.Epoch;
        _index = position.Index;
        _order = null;
    }

    public void NextWindow(Span<long> destination)
    {
        if (destination.Length != ContextLength + 1)
            throw new ArgumentException($"a window holds {ContextLength + 1} tokens, the destination {destination.Length}", nameof(destination));
        if (_index == WindowsPerEpoch)
        {
            _epoch++;
            _index = 0;
            _order = null;
        }
        var window = Shuffle ? (_order ??= new SeededPermutation(WindowsPerEpoch, EpochSeed(_epoch)))[_index] : _index;
        _index++;
        var shard = FindShard(window);
        _shards[shard].CopyTokens((window - _firstWindow[shard]) * ContextLength, destination);
    }

    public long[] NextBatch(int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the batch size must be positive");
        var width = ContextLength + 1;
        var batch = new long[batchSize * width];
        for (var b = 0; b < batchSize; b++) NextWindow(batch.AsSpan(b * width, width));
        return batch;
    }

    public Tensor NextBatchTensor(int batchSize) => Tensor.FromArray(NextBatch(batchSize), batchSize, ContextLength + 1); // (B, T + 1) Int64

    private int FindShard(long window)
    {
        var i = Array.BinarySearch(_firstWindow, window);
        // An exact hit may be the start of an empty shard: move to the last shard starting there.
        if (i >= 0)
        {
            while (i + 1 < _firstWindow.Length - 1 && _firstWindow[i + 1] == window) i++;
            return i;
        }
        return ~i - 1;
    }

    private ulong EpochSeed(long epoch)
    {
        var state = Seed ^ (0xD1B54A32D192ED03UL * (ulong)(epoch + 1));
        return SeededPermutation.SplitMix64(ref state);
    }

    private ulong ComputeFingerprint()
    {
        var state = 0x6A09E667F3BCC909UL;
        void Mix(ulong value)
        {
            state ^= value;
            state = SeededPermutation.SplitMix64(ref state);
        }
        Mix((ulong)ContextLength);
        Mix(Seed);
        Mix(Shuffle ? 1UL : 0UL);
        Mix((ulong)VocabSize);
        foreach (var s in _shards)
        {
            Mix((ulong)s.TokenCount);
            Mix((ulong)s.DocumentCount);
        }
        return state;
    }

    public void Dispose()
    {
        if (!_ownsShards) return;
        foreach (var s in _shards) s.Dispose();
    }
}
