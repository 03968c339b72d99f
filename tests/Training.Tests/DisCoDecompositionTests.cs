using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Training.Tests;

public class DisCoDecompositionTests
{
    internal static ModelConfig Moe(FfnKind kind = FfnKind.Moe, int experts = 3) => new()
    {
        VocabSize = 32,
        DModel = 16,
        NumLayers = 3,
        MaxSeqLen = 8,
        Attention = new AttentionConfig { NumHeads = 2 },
        Layers = new LayersConfig
        {
            FirstDense = 1,
            Dense = new DenseMlpConfig { HiddenDim = 32 },
            Ffn = new FfnConfig
            {
                Kind = kind,
                Moe = new MoeConfig { NumExperts = experts, TopK = 2, ExpertDim = 8 },
                Latent = kind == FfnKind.LatentMoe ? new LatentConfig { LatentDim = 8 } : null,
            },
        },
        Init = new InitConfig { Seed = 7 },
    };

    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors) t.Dispose();
    }

    [Theory]
    [InlineData(FfnKind.Moe)]
    [InlineData(FfnKind.LatentMoe)]
    public void DecomposeThenIntegrateGivesBackTheOriginalWeightsExactly(FfnKind kind)
    {
        var config = Moe(kind);
        using var moe = new Transformer(config);
        var original = moe.StateDict();
        var submodels = Enumerable.Range(0, 3).Select(k => ExpertDecomposition.SubmodelState(config, original, k)).ToList();
        var merged = ExpertIntegration.Integrate(config, submodels, weights: null, routerSource: original);

        Assert.Equal(original.Keys.Order(), merged.Keys.Order());
        foreach (var (name, tensor) in original)
        {
            Assert.True(merged[name].Equal(tensor), $"{name} differs after decompose + integrate");
        }
        foreach (var s in submodels) DisposeAll(s.Values);
        DisposeAll(merged.Values);
    }

    [Fact]
    public void SubmodelStateLoadsIntoTheSubmodelArchitectureAndComputesBackbonePlusOneExpert()
    {
        var config = Moe();
        using var moe = new Transformer(config);
        var sub = ExpertDecomposition.SubmodelState(config, moe.StateDict(), expert: 2);
        using var submodel = new Transformer(ExpertDecomposition.SubmodelConfig(config));
        submodel.LoadStateDict(sub);

        // Expert 2 of layer 1 is the submodel's only expert, bit for bit.
        Assert.True(submodel.StateDict()["layers.1.ffn.experts.w_up"].Equal(sub["layers.1.ffn.experts.w_up"]));
        using var scope = DisposeScope.Begin();
        var expected = moe.StateDict()["layers.1.ffn.experts.w_up"].Narrow(0, 2, 1);
        Assert.True(submodel.StateDict()["layers.1.ffn.experts.w_up"].Equal(expected));

        // Top-1 over one expert: the gate is 1, so the router gets no gradient (the gate is removed).
        var tokens = Tensor.RandInt(0, 32, [2, 8], new Generator(1));
        using var output = submodel.Forward(tokens.Narrow(1, 0, 7), tokens.Narrow(1, 1, 7));
        output.Loss!.Backward();
        using var routerGrad = ((Tensor)submodel.StateDict()["layers.1.ffn.router"]).Grad;
        Assert.True(routerGrad is null || routerGrad.Abs().Max().Item() == 0.0);
        using var expertGrad = ((Tensor)submodel.StateDict()["layers.1.ffn.experts.w_up"]).Grad!;
        Assert.True(expertGrad.Abs().Max().Item() > 0.0);
        DisposeAll(sub.Values);
    }

    [Fact]
    public void IntegratedExpertKIsSubmodelKsExpertAndSharedWeightsAreTheWeightedMean()
    {
        var config = Moe(experts: 2);
        using var moe = new Transformer(config);
        var original = moe.StateDict();
        var submodels = Enumerable.Range(0, 2).Select(k => ExpertDecomposition.SubmodelState(config, original, k)).ToList();
        // Make the two backbones and experts differ, as after independent training.
        using (GradMode.NoGrad())
        {
            foreach (var (name, t) in submodels[1]) t.Add_(t.OnesLike(), 0.5);
        }
        var merged = ExpertIntegration.Integrate(config, submodels, weights: [3.0, 1.0], routerSource: original);

        using var scope = DisposeScope.Begin();
        for (var k = 0; k < 2; k++)
        {
            Assert.True(merged["layers.2.ffn.experts.w_down"].Narrow(0, k, 1).Equal(submodels[k]["layers.2.ffn.experts.w_down"]));
        }
        // Hand computation: weights 3:1 -> 0.75 a + 0.25 (a + 0.5) = a + 0.125.
        var a = submodels[0]["token_embedding"].ToArray<float>();
        var m = merged["token_embedding"].ToArray<float>();
        for (var i = 0; i < a.Length; i++) Assert.Equal(a[i] + 0.125f, m[i], 6);
        Assert.True(merged["layers.1.ffn.router"].Equal(original["layers.1.ffn.router"]));
        Assert.Equal(0.0, merged["layers.1.ffn.balancing_bias"].Abs().Max().Item());
        foreach (var s in submodels) DisposeAll(s.Values);
        DisposeAll(merged.Values);
    }

    [Fact]
    public void MultiHeadLatentMoeIsRefusedWithTheReason()
    {
        var config = Moe() with
        {
            Layers = Moe().Layers with
            {
                Ffn = new FfnConfig { Kind = FfnKind.MultiHeadLatentMoe, Moe = new MoeConfig { NumExperts = 4, TopK = 2, ExpertDim = 8 }, Heads = new HeadsConfig { NumHeads = 2 } },
            },
        };
        var e = Assert.Throws<ArgumentException>(() => ExpertDecomposition.SubmodelConfig(config));
        Assert.Contains("layers.ffn.kind", e.Message);
        Assert.Contains("top_k >= 2", e.Message);
    }
}
