using System.Text;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Tests.Clustering;

public sealed class FeatureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-features-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MeanPooledEmbeddingsMatchHandComputedMeans()
    {
        using var scope = DisposeScope.Begin();
        var table = Tensor.FromArray(new float[] { 1, 0, 0, 1, 2, 2, 4, 0, 9, 9 }, 5, 2); // (V=5, d=2)
        int[][] documents = [[0, 1], [2], [3, 3, 0, 4], [4], []];
        var pooled = EmbeddingFeatures.MeanPooled(table, documents, ignoredTokens: new HashSet<int> { 4 }, batchTokens: 3);
        Assert.Equal([5L, 2], pooled.Shape);
        Assert.Equal([0.5f, 0.5f, 2, 2, 3, 0, 0, 0, 0, 0], pooled.ToArray<float>());
    }

    [Fact]
    public void EmbeddingTokenOutsideTheTableIsNamed()
    {
        using var scope = DisposeScope.Begin();
        var table = Tensor.Zeros([3, 2]);
        var e = Assert.Throws<ArgumentException>(() => EmbeddingFeatures.MeanPooled(table, [[0, 1], [7]]));
        Assert.Contains("document 1", e.Message);
        Assert.Contains("token id 7", e.Message);
    }

    [Fact]
    public void LoadsTheEmbeddingTableByNameAndNamesTheAlternatives()
    {
        using var scope = DisposeScope.Begin();
        var path = Path.Combine(_dir, "model.safetensors");
        var table = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2).To(ScalarType.BFloat16);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["tok_embeddings.weight"] = table, ["layers.0.w"] = Tensor.Ones([2, 2]) });

        using var loaded = EmbeddingFeatures.LoadTable(path, "tok_embeddings.weight");
        Assert.Equal(ScalarType.Float32, loaded.Dtype);
        Assert.Equal([1f, 2, 3, 4, 5, 6], loaded.ToArray<float>());

        var e = Assert.Throws<SafeTensorsFormatException>(() => EmbeddingFeatures.LoadTable(path, "wte.weight"));
        Assert.Contains(path, e.Message);
        Assert.Contains("'wte.weight'", e.Message);
        Assert.Contains("tok_embeddings.weight", e.Message);
    }

    [Fact]
    public void HashedFeaturesAreUnitRowsDeterministicAndSeparateLanguages()
    {
        using var scope = DisposeScope.Begin();
        string[] texts =
        [
            "the cat sat on the mat and the dog slept", "the dog and the cat are friends of the house",
            "der Hund und die Katze schlafen im Haus", "die Katze sitzt auf der Matte und der Hund schläft",
        ];
        var documents = texts.Select(Encoding.UTF8.GetBytes).ToList();
        var a = HashedNgramFeatures.Compute(documents, new HashedNgramOptions { Seed = 5, Dimensions = 64 });
        var b = HashedNgramFeatures.Compute(documents, new HashedNgramOptions { Seed = 5, Dimensions = 64 });
        Assert.True(a.Equal(b));
        Assert.Equal([4L, 64], a.Shape);
        Assert.All((a * a).Sum(1).ToArray<float>(), v => Assert.Equal(1f, v, 1e-4f));

        var cos = a.Mm(a.T).ToArray<float>(); // (4, 4)
        Assert.True(cos[0 * 4 + 1] > cos[0 * 4 + 2] && cos[0 * 4 + 1] > cos[0 * 4 + 3], "English documents should be closer to each other than to German ones");
        Assert.True(cos[2 * 4 + 3] > cos[2 * 4 + 0] && cos[2 * 4 + 3] > cos[2 * 4 + 1], "German documents should be closer to each other than to English ones");
    }
}
