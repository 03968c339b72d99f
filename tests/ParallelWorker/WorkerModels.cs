using Orleans.MoE.Model.Config;

namespace Orleans.MoE.ParallelWorker;

/// <summary>
/// The tiny models and the fixed global batches of the multi-process tests: d = 32, two routed layers,
/// vocabulary 64, global batch 8 rows of 8 tokens (so P in {1, 2, 4} divides it).
/// </summary>
public static class WorkerModels
{
    public const int DModel = 32;
    public const int Vocab = 64;
    public const int SeqLen = 8;
    public const int GlobalBatch = 8;
    public const int Heads = 4;

    public static ModelConfig For(WorkerModel model, int topK, int experts) => new()
    {
        VocabSize = Vocab,
        DModel = DModel,
        NumLayers = 2,
        MaxSeqLen = SeqLen,
        Attention = new AttentionConfig { NumHeads = 4 },
        Layers = new LayersConfig
        {
            FirstDense = 0,
            Ffn = model == WorkerModel.Moe
                ? new FfnConfig { Kind = FfnKind.Moe, Moe = new MoeConfig { NumExperts = experts, TopK = topK, ExpertDim = 16 } }
                : new FfnConfig
                {
                    Kind = FfnKind.MultiHeadLatentMoe,
                    Moe = new MoeConfig { NumExperts = experts, TopK = topK, ExpertDim = 16 },
                    Heads = new HeadsConfig { NumHeads = Heads },   // d_h = 8, N_h · d_h = d
                },
        },
        Init = new InitConfig { Seed = 11 },
    };

    /// <summary>Step <paramref name="step"/>'s global batch: inputs and next-token targets, each (B, T) row-major.</summary>
    public static (long[] Inputs, long[] Targets) GlobalBatchAt(int step)
    {
        var random = new Random(1000 + step);
        var inputs = new long[GlobalBatch * SeqLen];
        var targets = new long[GlobalBatch * SeqLen];
        for (var b = 0; b < GlobalBatch; b++)
        {
            var row = new long[SeqLen + 1];
            for (var t = 0; t <= SeqLen; t++) row[t] = random.Next(Vocab);
            Array.Copy(row, 0, inputs, b * SeqLen, SeqLen);
            Array.Copy(row, 1, targets, b * SeqLen, SeqLen);
        }
        return (inputs, targets);
    }
}
