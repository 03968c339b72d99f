using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.Tests;

/// <summary>Models small enough that a training step takes milliseconds.</summary>
internal static class TinyModels
{
    public const int Vocab = 32;

    public static ModelConfig Dense(ulong seed = 5) => new()
    {
        VocabSize = Vocab,
        DModel = 16,
        NumLayers = 2,
        MaxSeqLen = 16,
        Attention = new AttentionConfig { NumHeads = 2 },
        Layers = new LayersConfig { Dense = new DenseMlpConfig { HiddenDim = 32 }, Ffn = new FfnConfig { Kind = FfnKind.Mlp } },
        Init = new InitConfig { Seed = seed },
    };

    /// <summary>One dense layer, then a 4-expert top-2 MoE layer.</summary>
    public static ModelConfig Moe(ulong seed = 5) => Dense(seed) with
    {
        Layers = new LayersConfig
        {
            FirstDense = 1,
            Dense = new DenseMlpConfig { HiddenDim = 32 },
            Ffn = new FfnConfig { Kind = FfnKind.Moe, Moe = new MoeConfig { NumExperts = 4, TopK = 2, ExpertDim = 16 } },
        },
    };

    /// <summary>One dense layer, then a Multi-Head LatentMoE layer: 4 heads of width 4, each with 4 experts, top-2.</summary>
    public static ModelConfig MultiHead(ulong seed = 5) => Dense(seed) with
    {
        Layers = new LayersConfig
        {
            FirstDense = 1,
            Dense = new DenseMlpConfig { HiddenDim = 32 },
            Ffn = new FfnConfig
            {
                Kind = FfnKind.MultiHeadLatentMoe,
                Moe = new MoeConfig { NumExperts = 4, TopK = 2, ExpertDim = 8 },
                Heads = new HeadsConfig { NumHeads = 4 },
            },
        },
    };
}
