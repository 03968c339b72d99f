using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Model.Tests;

public class AccountingTests
{
    public static TheoryData<string> Kinds => ["mlp", "moe", "moe_swiglu", "latent", "mh", "mh_wide_heads", "mh_tied"];

    private static ModelConfig ConfigOf(string kind) => kind switch
    {
        "mlp" => TestConfigs.Model(TestConfigs.Mlp()),
        "moe" => TestConfigs.Model(TestConfigs.Moe(8, 2, 16)),
        "moe_swiglu" => TestConfigs.Model(TestConfigs.Moe(8, 3, 16, Activation.Swiglu), denseActivation: Activation.Swiglu),
        "latent" => TestConfigs.Model(TestConfigs.Latent(8, 2, 16, 8)),
        "mh" => TestConfigs.Model(TestConfigs.MultiHead(4, 8, 2, 16)),
        "mh_wide_heads" => TestConfigs.Model(TestConfigs.MultiHead(3, 8, 2, 16, headDim: 12)),
        "mh_tied" => TestConfigs.Model(TestConfigs.MultiHead(4, 8, 2, 16), tie: true),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CountsMatchTheParametersOfTheBuiltModel(string kind)
    {
        var config = ConfigOf(kind);
        using var model = new Transformer(config);
        var counts = ModelAccounting.Of(config).Parameters;
        Assert.Equal(model.ParameterCount(), counts.Total);
        var experts = model.NamedParameters().Where(p => p.Name.Contains(".experts.")).Sum(p => p.Parameter.NumElements);
        Assert.Equal(experts, counts.Routed);
        if (config.Layers.Ffn.Moe is { } moe)
        {
            // Every routed layer has the same experts, so a token uses k / N_e of them.
            Assert.Equal(counts.Total - counts.Routed + counts.Routed * moe.TopK / moe.NumExperts, counts.Active);
        }
        else
        {
            Assert.Equal(counts.Total, counts.Active);
        }
    }

    [Fact]
    public void MultiHeadLatentMoeHasTheExpertParametersOfAnMoePlusTwoDSquaredPerLayer()
    {
        const int d = 32, layers = 4, firstDense = 1;
        var moe = TestConfigs.Model(TestConfigs.Moe(8, 2, 16), firstDense, d, layers);
        var multiHead = TestConfigs.Model(TestConfigs.MultiHead(4, 8, 2, 16), firstDense, d, layers);   // N_h · d_h = 4 · 8 = d
        var a = ModelAccounting.Of(moe).Parameters;
        var b = ModelAccounting.Of(multiHead).Parameters;
        Assert.Equal(a.Routed, b.Routed);
        Assert.Equal(a.ActiveExperts, b.ActiveExperts);
        Assert.Equal(a.Routers, b.Routers);
        const long extra = 2L * d * d * (layers - firstDense);
        Assert.Equal(extra, b.Total - a.Total);
        Assert.Equal(extra, b.Active - a.Active);

        using var moeModel = new Transformer(moe);
        using var multiHeadModel = new Transformer(multiHead);
        Assert.Equal(extra, multiHeadModel.ParameterCount() - moeModel.ParameterCount());
    }

    [Fact]
    public void ReproducesThePapersParameterCategories()
    {
        // Paper Tables 1 and 4-5: L = 12, d = 1024, layers 0-1 dense (hidden 4d), untied vocabulary 50304.
        static ModelConfig Paper(FfnConfig ffn) => new()
        {
            VocabSize = 50304, DModel = 1024, NumLayers = 12, MaxSeqLen = 2048,
            Attention = new AttentionConfig { NumHeads = 8 },
            Layers = new LayersConfig { FirstDense = 2, Dense = new DenseMlpConfig { HiddenDim = 4096 }, Ffn = ffn },
        };
        var moe = ModelAccounting.Of(Paper(TestConfigs.Moe(384, 4, 256))).Parameters;
        var mh = ModelAccounting.Of(Paper(TestConfigs.MultiHead(8, 384, 4, 256))).Parameters;
        var mh4B = ModelAccounting.Of(Paper(TestConfigs.MultiHead(8, 768, 4, 256))).Parameters;
        var mhG = ModelAccounting.Of(Paper(TestConfigs.MultiHead(8, 1536, 8, 128))).Parameters;

        Assert.Equal(201_326_592L, moe.Routed / 10);   // 384 · 2 · 1024 · 256 per layer: "201.3M"
        Assert.Equal(moe.Routed, mh.Routed);
        // 2 · 50304 · 1024 + 12 · 4 · 1024² + 2 · 2 · 1024 · 4096 + 10 · 1024 · 384 + 25 norms · 1024 + routed experts
        Assert.Equal(103_022_592L + 50_331_648 + 16_777_216 + 3_932_160 + 25_600 + 2_013_265_920, moe.Total);
        Assert.Equal(moe.Total - moe.Routed + 10L * 4 * 2 * 1024 * 256, moe.Active);
        Assert.Equal(moe.Total + 10L * 2 * 1024 * 1024, mh.Total);
        Assert.Equal((0.2, 2.2), (Math.Round(mh.Active / 1e9, 1), Math.Round(mh.Total / 1e9, 1)));     // "0.2B-2.2B"
        Assert.Equal((0.2, 4.2), (Math.Round(mh4B.Active / 1e9, 1), Math.Round(mh4B.Total / 1e9, 1))); // "0.2B-4.2B"
        Assert.Equal((mh4B.Routed, mh4B.ActiveExperts), (mhG.Routed, mhG.ActiveExperts));   // doubled granularity (2N_e, 2k, d_e/2): same expert counts
    }

    [Fact]
    public void TrainingFlopsAreSixTimesTheActiveMatricesPlusAttention()
    {
        var config = TestConfigs.Model(TestConfigs.Moe(8, 2, 16));
        var accounting = ModelAccounting.Of(config, sequenceLength: 16);
        var p = accounting.Parameters;
        // Active matrices: attention, dense MLP, routers, the k experts per token, the classifier.
        var matrices = p.Attention + p.DenseMlp + p.Routers + p.ActiveExperts + p.Classifier;
        Assert.Equal(6.0 * matrices + 12.0 * config.NumLayers * config.DModel * 16, accounting.TrainingFlopsPerToken);
        Assert.Contains("parameters:", accounting.Describe());
    }
}
