using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>
/// The two models compared: a standard MoE (expert parallel) and its Multi-Head LatentMoE counterpart
/// (head parallel) with N_h · d_h = d and the same N_e, k and d_e per head, so routed parameters,
/// active expert parameters and expert FLOPs are equal (the paper's identity); the Multi-Head model adds
/// W_in and W_out (2 d² per layer). Same depth, width, attention and dense first layer.
/// Small enough that four ranks on two cores finish a step in about a second, with enough tokens per
/// step that the exchanges take visible time at 100 Mbit/s.
/// </summary>
internal static class BenchModels
{
    public const int DModel = 128;
    public const int Layers = 4;
    public const int FirstDense = 1;
    public const int Vocab = 512;
    public const int SequenceLength = 256;
    public const int Experts = 16;
    public const int ExpertDim = 128;
    public const int Heads = 4;   // N_h: divisible by P = 2 and 4; d_h = 32

    public static ModelConfig Moe(int topK) => Build(new FfnConfig
    {
        Kind = FfnKind.Moe,
        Moe = new MoeConfig { NumExperts = Experts, TopK = topK, ExpertDim = ExpertDim },
    });

    public static ModelConfig MultiHeadLatentMoe(int topK) => Build(new FfnConfig
    {
        Kind = FfnKind.MultiHeadLatentMoe,
        Moe = new MoeConfig { NumExperts = Experts, TopK = topK, ExpertDim = ExpertDim },
        Heads = new HeadsConfig { NumHeads = Heads },
    });

    private static ModelConfig Build(FfnConfig ffn) => new()
    {
        VocabSize = Vocab,
        DModel = DModel,
        NumLayers = Layers,
        MaxSeqLen = SequenceLength,
        Attention = new AttentionConfig { NumHeads = 4 },
        Layers = new LayersConfig { FirstDense = FirstDense, Dense = new DenseMlpConfig { HiddenDim = 4 * DModel }, Ffn = ffn },
        Init = new InitConfig { Seed = 1 },
    };

    /// <summary>One line per model: active and total parameters, and the identity's check.</summary>
    public static string Describe(int topK)
    {
        var moe = ModelAccounting.Of(Moe(topK), SequenceLength).Parameters;
        var mh = ModelAccounting.Of(MultiHeadLatentMoe(topK), SequenceLength).Parameters;
        if (moe.ActiveExperts != mh.ActiveExperts || moe.Routed != mh.Routed)
            throw new InvalidOperationException("the two models must have equal routed and active expert parameters");
        return $"d={DModel}, {Layers} layers ({FirstDense} dense, hidden {4 * DModel}), vocab {Vocab}, context {SequenceLength}\n" +
            $"{"",37}N_e={Experts}, k={topK}, d_e={ExpertDim}; Multi-Head LatentMoE N_h={Heads}, d_h={DModel / Heads}\n" +
            $"{"",37}active expert params {moe.ActiveExperts:N0} both, routed {moe.Routed:N0} both\n" +
            $"{"",37}total MoE {moe.Total:N0}, Multi-Head LatentMoE {mh.Total:N0} (+W_in/W_out {mh.LatentProjections:N0})";
    }
}
