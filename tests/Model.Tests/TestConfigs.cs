using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Model.Tests;

/// <summary>Small configurations built in code.</summary>
internal static class TestConfigs
{
    public static ModelConfig Model(FfnConfig ffn, int firstDense = 1, int dModel = 32, int numLayers = 3, int vocab = 64,
        bool tie = false, ulong seed = 3, BalancingConfig? balancing = null, Activation denseActivation = Activation.Gelu) => new()
    {
        VocabSize = vocab,
        DModel = dModel,
        NumLayers = numLayers,
        MaxSeqLen = 16,
        Attention = new AttentionConfig { NumHeads = 4 },
        Layers = new LayersConfig
        {
            FirstDense = ffn.Kind == FfnKind.Mlp ? 0 : firstDense,
            Dense = ffn.Kind == FfnKind.Mlp || firstDense > 0 ? new DenseMlpConfig { HiddenDim = 4 * dModel, Activation = denseActivation } : null,
            Ffn = ffn,
        },
        TieEmbeddings = tie,
        Balancing = balancing ?? new BalancingConfig(),
        Init = new InitConfig { Seed = seed },
    };

    public static FfnConfig Mlp() => new() { Kind = FfnKind.Mlp };

    public static MoeConfig Experts(int numExperts, int topK, int expertDim, Activation activation = Activation.Gelu) =>
        new() { NumExperts = numExperts, TopK = topK, ExpertDim = expertDim, Activation = activation };

    public static FfnConfig Moe(int numExperts, int topK, int expertDim, Activation activation = Activation.Gelu) =>
        new() { Kind = FfnKind.Moe, Moe = Experts(numExperts, topK, expertDim, activation) };

    public static FfnConfig Latent(int numExperts, int topK, int expertDim, int latentDim) =>
        new() { Kind = FfnKind.LatentMoe, Moe = Experts(numExperts, topK, expertDim), Latent = new LatentConfig { LatentDim = latentDim } };

    public static FfnConfig MultiHead(int numHeads, int numExperts, int topK, int expertDim, int? headDim = null,
        Activation activation = Activation.Gelu) => new()
    {
        Kind = FfnKind.MultiHeadLatentMoe,
        Moe = Experts(numExperts, topK, expertDim, activation),
        Heads = new HeadsConfig { NumHeads = numHeads, HeadDim = headDim },
    };
}
