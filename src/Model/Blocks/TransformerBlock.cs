using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>A pre-norm decoder block: x + attn(norm(x)), then x + ffn(norm(x)).</summary>
public sealed class TransformerBlock : Module
{
    /// <param name="partition">the share of a routed FFN's heads or experts this block holds (null: all)</param>
    public TransformerBlock(ModelConfig config, int layer, WeightInit init, ExpertPartition? partition = null)
    {
        Layer = layer;
        AttentionNorm = RegisterModule("attn_norm", new RmsNorm(config.DModel, config.NormEps, init));
        Attention = RegisterModule("attn", new CausalSelfAttention(config.DModel, config.Attention.NumHeads, config.MaxSeqLen, config.Attention.RopeBase, init));
        FfnNorm = RegisterModule("ffn_norm", new RmsNorm(config.DModel, config.NormEps, init));
        Ffn = RegisterModule("ffn", CreateFfn(config, layer, init, partition));
    }

    public int Layer { get; }

    public RmsNorm AttentionNorm { get; }

    public CausalSelfAttention Attention { get; }

    public RmsNorm FfnNorm { get; }

    public FeedForward Ffn { get; }

    /// <summary>The FFN that layer <paramref name="layer"/> of the configuration gets (dense layers ignore the partition).</summary>
    public static FeedForward CreateFfn(ModelConfig c, int layer, WeightInit init, ExpertPartition? partition = null)
    {
        var ffn = c.Layers.Ffn;
        partition ??= ExpertPartition.Whole;
        return c.FfnKindOf(layer) switch
        {
            FfnKind.Mlp => new DenseMlp(c.DModel, c.Layers.Dense!, init),
            FfnKind.Moe => new MoeFeedForward(c.DModel, ffn.Moe!, c.Balancing, init, partition),
            FfnKind.LatentMoe => new LatentMoeFeedForward(c.DModel, ffn.Moe!, ffn.Latent!, c.Balancing, init, partition),
            FfnKind.MultiHeadLatentMoe => new MultiHeadLatentMoeFeedForward(c.DModel, ffn.Moe!, ffn.Heads!, c.Balancing, init, partition),
            var kind => throw new ArgumentOutOfRangeException(nameof(c), kind, "unknown FFN kind"),
        };
    }

    /// <summary>(B, T, d) -> (B, T, d), plus the FFN's weighted auxiliary loss, if any.</summary>
    public FfnOutput Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var shape = x.Shape;
        var attended = x + Attention.Forward(AttentionNorm.Forward(x));                  // (B, T, d)
        var tokens = FfnNorm.Forward(attended).View(shape[0] * shape[1], shape[2]);      // (B·T, d)
        var ffn = Ffn.Forward(tokens);
        var output = attended + ffn.Output.View(shape);                                  // (B, T, d)
        return new FfnOutput(scope.MoveToOuter(output), ffn.AuxLoss is { } aux ? scope.MoveToOuter(aux) : null);
    }
}
