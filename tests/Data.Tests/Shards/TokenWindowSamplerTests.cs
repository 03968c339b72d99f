using System.Text.Json;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Tests.Shards;

public sealed class TokenWindowSamplerTests : IDisposable
{
    private const int T = 8;
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-windows-").FullName;
    private readonly string[] _paths;

    public TokenWindowSamplerTests()
    {
        // Token value = its position in the shard + 1000 * shard, so a window's content shows where it came from.
        int[] sizes = [101, 5, 0, 57];
        _paths = new string[sizes.Length];
        for (var s = 0; s < sizes.Length; s++)
        {
            _paths[s] = Path.Combine(_dir, $"shard{s}.tokens");
            var tokens = Enumerable.Range(0, sizes[s]).Select(i => i + 1000 * s).ToArray();
            TokenShardWriter.Write(_paths[s], 5000, [tokens[..(tokens.Length / 2)], tokens[(tokens.Length / 2)..]]);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TokenWindowSampler Open(ulong seed, bool shuffle = true) => TokenWindowSampler.Open(_paths, T, seed, shuffle);

    private static List<long[]> Take(ITokenWindowSource source, int count)
    {
        var result = new List<long[]>();
        for (var i = 0; i < count; i++)
        {
            var w = new long[T + 1];
            source.NextWindow(w);
            result.Add(w);
        }
        return result;
    }

    [Fact]
    public void EachEpochVisitsEveryWindowOnce()
    {
        using var sampler = Open(seed: 42);
        // (101-1)/8 = 12, (5-1)/8 = 0, empty shard 0, (57-1)/8 = 7.
        Assert.Equal(19, sampler.WindowsPerEpoch);
        var windows = Take(sampler, 19);
        foreach (var w in windows)
        {
            for (var i = 1; i <= T; i++) Assert.Equal(w[0] + i, w[i]);
            Assert.Equal(0, w[0] % 1000 % T);
        }
        var starts = windows.Select(w => w[0]).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 12).Select(k => (long)k * T).Concat(Enumerable.Range(0, 7).Select(k => 3000L + k * T)), starts);
        Assert.NotEqual(starts, windows.Select(w => w[0]).ToArray()); // shuffled, not in order

        var secondEpoch = Take(sampler, 19).Select(w => w[0]).ToArray();
        Assert.Equal(starts, secondEpoch.Order().ToArray());
        Assert.NotEqual(windows.Select(w => w[0]).ToArray(), secondEpoch);
        Assert.Equal(1, sampler.Position.Epoch);
    }

    [Fact]
    public void SameSeedSameOrderOtherSeedOtherOrder()
    {
        using var a = Open(seed: 1);
        using var b = Open(seed: 1);
        using var c = Open(seed: 2);
        var first = Take(a, 40).Select(w => w[0]).ToArray();
        Assert.Equal(first, Take(b, 40).Select(w => w[0]).ToArray());
        Assert.NotEqual(first, Take(c, 40).Select(w => w[0]).ToArray());
    }

    [Fact]
    public void ResumesExactlyFromASavedPosition()
    {
        using var a = Open(seed: 9);
        Take(a, 23);
        var json = JsonSerializer.Serialize(a.Position);
        var text = a.Position.ToString();
        var expected = Take(a, 30).Select(w => w[0]).ToArray();

        using var fromJson = Open(seed: 9);
        fromJson.Seek(JsonSerializer.Deserialize<TokenWindowPosition>(json));
        Assert.Equal(expected, Take(fromJson, 30).Select(w => w[0]).ToArray());

        using var fromText = Open(seed: 9);
        fromText.Seek(TokenWindowPosition.Parse(text));
        Assert.Equal(expected, Take(fromText, 30).Select(w => w[0]).ToArray());
    }

    [Fact]
    public void RefusesAPositionFromOtherSettings()
    {
        using var a = Open(seed: 9);
        using var b = Open(seed: 10);
        var e = Assert.Throws<ArgumentException>(() => b.Seek(a.Position));
        Assert.Contains("seed 10", e.Message);
    }

    [Fact]
    public void UnshuffledReadsInShardOrder()
    {
        using var sampler = Open(seed: 0, shuffle: false);
        var starts = Take(sampler, 19).Select(w => w[0]).ToArray();
        Assert.Equal(starts.Order().ToArray(), starts);
    }

    [Fact]
    public void BatchesAreInt64TensorsOfWindows()
    {
        using var scope = DisposeScope.Begin();
        using var a = Open(seed: 5);
        using var b = Open(seed: 5);
        var tensor = a.NextBatchTensor(4);
        Assert.Equal([4L, T + 1], tensor.Shape);
        Assert.Equal(ScalarType.Int64, tensor.Dtype);
        Assert.Equal(b.NextBatch(4), tensor.ToArray<long>());
    }

    [Fact]
    public void TooLittleDataIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenWindowSampler.Open([_paths[1]], 16, 0));
        Assert.Contains("5 tokens", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(4097)]
    public void PermutationIsABijection(int n)
    {
        var p = new SeededPermutation(n, 77);
        var seen = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var v = p[i];
            Assert.False(seen[v]);
            seen[v] = true;
        }
    }
}
