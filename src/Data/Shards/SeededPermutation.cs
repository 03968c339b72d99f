namespace Orleans.MoE.Data.Shards;

/// <summary>
/// A pseudo-random permutation of [0, n) computed element by element, with no table: a 4-round
/// Feistel network on the smallest even number of bits that covers n, walking the cycle until the
/// value falls below n (fewer than 4 steps on average). The same seed gives the same permutation on
/// every machine, and any position can be looked up in O(1), which is what lets a sampler resume
/// from a saved position without replaying the epoch.
/// </summary>
public sealed class SeededPermutation
{
    private readonly ulong _count;
    private readonly int _halfBits;
    private readonly ulong _mask;
    private readonly ulong[] _keys = new ulong[4];

    public SeededPermutation(long count, ulong seed)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "the permutation needs at least one element");
        _count = (ulong)count;
        var bits = 64 - ulong.LeadingZeroCount(_count - 1 | 1);
        _halfBits = (int)Math.Max(1, (bits + 1) / 2);
        _mask = (1UL << _halfBits) - 1;
        var state = seed;
        for (var i = 0; i < _keys.Length; i++) _keys[i] = SplitMix64(ref state);
    }

    public long this[long index]
    {
        get
        {
            if ((ulong)index >= _count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the permutation has {_count} elements");
            var x = (ulong)index;
            do x = Encrypt(x);
            while (x >= _count);
            return (long)x;
        }
    }

    private ulong Encrypt(ulong x)
    {
        var left = x >> _halfBits;
        var right = x & _mask;
        foreach (var key in _keys)
        {
            var state = right ^ key;
            var next = left ^ (SplitMix64(ref state) & _mask);
            left = right;
            right = next;
        }
        return (left << _halfBits) | right;
    }

    internal static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
