namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// A small seeded generator (SplitMix64) whose sequence is fixed by this code alone, so clustering
/// gives the same result for the same seed on every machine and runtime version.
/// </summary>
internal sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n).</summary>
    public long Next(long n) => (long)(NextDouble() * n) is var v && v < n ? v : n - 1;

    /// <summary>A seed for an independent stream, derived from this seed and a stream number.</summary>
    public static ulong Derive(ulong seed, ulong stream)
    {
        var r = new SeededRandom(seed ^ (0xD6E8FEB86659FD93UL * (stream + 1)));
        return r.NextUInt64();
    }
}
