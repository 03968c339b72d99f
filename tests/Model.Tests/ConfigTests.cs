using System.Text.Json.Nodes;
using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Model.Tests;

public class ConfigTests
{
    private const string MultiHeadJson = """
        {
          "vocab_size": 256,
          "d_model": 64,
          "num_layers": 4,
          "max_seq_len": 128,
          "attention": { "num_heads": 4 },
          "layers": {
            "first_dense": 2,
            "dense": { "hidden_dim": 256 },
            "ffn": {
              "kind": "multi_head_latent_moe",
              "moe": { "num_experts": 8, "top_k": 2, "expert_dim": 32 },
              "heads": { "num_heads": 4 }
            }
          },
          "balancing": { "bias_update_rate": 0.01 },
          "init": { "seed": 7 }
        }
        """;

    /// <summary>The valid document with one value replaced (or removed, for null), addressed by a dotted path.</summary>
    private static string With(string path, JsonNode? value)
    {
        var root = JsonNode.Parse(MultiHeadJson)!;
        var parts = path.Split('.');
        var parent = root;
        foreach (var part in parts[..^1]) parent = parent[part]!;
        if (value is null) parent.AsObject().Remove(parts[^1]);
        else parent[parts[^1]] = value;
        return root.ToJsonString();
    }

    private static ConfigException Rejects(string json)
    {
        var e = Assert.Throws<ConfigException>(() => ModelConfigLoader.Parse(json, "test.json"));
        Assert.StartsWith("test.json:", e.Message);
        return e;
    }

    [Fact]
    public void ReadsEveryFieldOfAValidFile()
    {
        var c = ModelConfigLoader.Parse(MultiHeadJson);
        Assert.Equal(64, c.DModel);
        Assert.Equal(FfnKind.MultiHeadLatentMoe, c.Layers.Ffn.Kind);
        Assert.Equal(2, c.Layers.Ffn.Moe!.TopK);
        Assert.Equal(16, c.Layers.Ffn.Heads!.ResolveHeadDim(c.DModel));
        Assert.Equal(0.01, c.Balancing.BiasUpdateRate);
        Assert.Equal(7UL, c.Init.Seed);
        Assert.Equal(0.02, c.Init.Std);
        Assert.Equal(FfnKind.Mlp, c.FfnKindOf(1));
        Assert.Equal(FfnKind.MultiHeadLatentMoe, c.FfnKindOf(2));
    }

    [Fact]
    public void WrittenJsonReadsBackEqual()
    {
        var c = ModelConfigLoader.Parse(MultiHeadJson);
        var json = ModelConfigLoader.ToJson(c);
        Assert.Contains("\"multi_head_latent_moe\"", json);
        Assert.Contains("\"top_k\": 2", json);
        Assert.Equal(c, ModelConfigLoader.Parse(json));
    }

    [Fact]
    public void UnknownFfnKindNamesTheFieldAndTheAllowedKinds()
    {
        var e = Rejects(With("layers.ffn.kind", "mixtral"));
        var p = Assert.Single(e.Problems);
        Assert.Equal("layers.ffn.kind", p.Path);
        Assert.Contains("'mixtral'", p.Message);
        Assert.Contains("mlp, moe, latent_moe, multi_head_latent_moe", p.Message);
    }

    [Fact]
    public void HeadCountThatDoesNotDivideTheWidthIsRejectedUnlessHeadDimIsGiven()
    {
        var e = Rejects(With("layers.ffn.heads", JsonNode.Parse("""{ "num_heads": 5 }""")));
        var p = Assert.Single(e.Problems);
        Assert.Equal("layers.ffn.heads.num_heads", p.Path);
        Assert.Contains("5 does not divide d_model (64)", p.Message);
        Assert.Contains("1, 2, 4, 8, 16, 32, 64", p.Message);

        var explicitWidth = ModelConfigLoader.Parse(With("layers.ffn.heads", JsonNode.Parse("""{ "num_heads": 5, "head_dim": 16 }""")));
        Assert.Equal(16, explicitWidth.Layers.Ffn.Heads!.ResolveHeadDim(64));
    }

    [Fact]
    public void TopKAboveTheExpertCountIsRejected()
    {
        var e = Rejects(With("layers.ffn.moe.top_k", 9));
        var p = Assert.Single(e.Problems);
        Assert.Equal("layers.ffn.moe.top_k", p.Path);
        Assert.Contains("9 exceeds num_experts (8); use 1..8", p.Message);
    }

    [Fact]
    public void SingleExpertRoutingIsRejectedForMultiHeadLatentMoeOnly()
    {
        var e = Rejects(With("layers.ffn.moe.top_k", 1));
        var p = Assert.Single(e.Problems);
        Assert.Equal("layers.ffn.moe.top_k", p.Path);
        Assert.Contains("no gradient", p.Message);
        Assert.Contains("use 2..8", p.Message);

        var moe = With("layers.ffn", JsonNode.Parse("""{ "kind": "moe", "moe": { "num_experts": 8, "top_k": 1, "expert_dim": 32 } }"""));
        Assert.Equal(1, ModelConfigLoader.Parse(moe).Layers.Ffn.Moe!.TopK);
    }

    [Fact]
    public void EveryProblemIsListedAtOnce()
    {
        var json = """
            {
              "vocab_size": "256",
              "d_model": 64,
              "num_layers": 4,
              "max_seq_len": 0,
              "attention": { "num_heads": 3 },
              "layers": {
                "first_dense": 1,
                "ffn": { "kind": "latent_moe", "moe": { "num_experts": 4, "top_kk": 2, "expert_dim": 8 }, "heads": { "num_heads": 4 } }
              },
              "balancing": { "aux_loss_weight": -1 }
            }
            """;
        var e = Rejects(json);
        var byPath = e.Problems.ToLookup(p => p.Path);
        Assert.Contains("expected an integer, got the string \"256\"", byPath["vocab_size"].Single().Message);
        Assert.Contains("0 is not allowed", byPath["max_seq_len"].Single().Message);
        Assert.Contains("3 does not divide d_model (64)", byPath["attention.num_heads"].Single().Message);
        Assert.Contains("first 1 layer(s) are dense", byPath["layers.dense"].Single().Message);
        Assert.StartsWith("missing", byPath["layers.ffn.moe.top_k"].Single().Message);
        Assert.Contains("unknown field; allowed here: num_experts, top_k, expert_dim, activation", byPath["layers.ffn.moe.top_kk"].Single().Message);
        Assert.StartsWith("missing; kind latent_moe needs", byPath["layers.ffn.latent"].Single().Message);
        Assert.Contains("only used by kind multi_head_latent_moe", byPath["layers.ffn.heads"].Single().Message);
        Assert.Contains("-1 is negative", byPath["balancing.aux_loss_weight"].Single().Message);
        Assert.Equal(9, e.Problems.Count);
        foreach (var p in e.Problems) Assert.Contains($"  - {p.Path}: ", e.Message);
    }

    [Fact]
    public void MalformedJsonReportsWhere()
    {
        var e = Rejects("{ \"vocab_size\": 256,\n  \"d_model\": }");
        Assert.Contains("not valid JSON (line 2", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var e = Assert.Throws<ConfigException>(() => ModelConfigLoader.LoadFile("/nonexistent/model.json"));
        Assert.StartsWith("/nonexistent/model.json:", e.Message);
    }

    [Fact]
    public void ConfigurationsBuiltInCodeAreValidatedToo()
    {
        var c = ModelConfigLoader.Parse(MultiHeadJson);
        var bad = c with { Layers = c.Layers with { Ffn = c.Layers.Ffn with { Moe = c.Layers.Ffn.Moe! with { TopK = 20 } } } };
        var e = Assert.Throws<ConfigException>(() => ModelConfigValidator.Validate(bad));
        Assert.Equal("layers.ffn.moe.top_k", Assert.Single(e.Problems).Path);
        Assert.Empty(ModelConfigValidator.Problems(c));
    }
}
