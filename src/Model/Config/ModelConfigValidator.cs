using Orleans.MoE.Config;

namespace Orleans.MoE.Model.Config;

/// <summary>
/// The rules a model configuration must follow. Every broken rule is reported, each naming the field
/// path, the bad value and the allowed values or the fix.
/// </summary>
public static class ModelConfigValidator
{
    /// <summary>Throws a <see cref="ConfigException"/> listing every problem of a configuration built in code.</summary>
    public static void Validate(ModelConfig config, string source = "model config") => ModelConfigLoader.Schema.Validate(config, source);

    /// <summary>Every problem, as a list (empty when the configuration is usable).</summary>
    public static IReadOnlyList<ConfigProblem> Problems(ModelConfig config) => ModelConfigLoader.Schema.Problems(config);

    /// <summary>Records every broken rule; checks that depend on a field already reported are skipped.</summary>
    public static void Collect(ModelConfig c, ConfigProblems p)
    {
        Positive(p, c.VocabSize, "vocab_size");
        Positive(p, c.DModel, "d_model");
        Positive(p, c.NumLayers, "num_layers");
        Positive(p, c.MaxSeqLen, "max_seq_len");
        p.Check(c.NormEps > 0, "norm_eps", $"{c.NormEps} is not positive; use a small positive number such as 1e-5");

        var heads = c.Attention.NumHeads;
        Positive(p, heads, "attention.num_heads");
        if (heads > 0 && c.DModel > 0)
        {
            p.Check(c.DModel % heads == 0, "attention.num_heads",
                $"{heads} does not divide d_model ({c.DModel}); use one of {Divisors(c.DModel)}", "d_model");
            p.Check(c.DModel % heads != 0 || c.DModel / heads % 2 == 0, "attention.num_heads",
                $"{heads} heads give an odd head width ({c.DModel / heads}), which rotary embeddings cannot rotate in pairs; " +
                $"use one of {Divisors(c.DModel, d => c.DModel / d % 2 == 0)}", "d_model");
        }
        p.Check(c.Attention.RopeBase > 1, "attention.rope_base", $"{c.Attention.RopeBase} must be greater than 1 (e.g. 10000)");

        CheckLayers(c, p);
        CheckBalancing(c.Balancing, p);
        p.Check(c.Init.Std > 0, "init.std", $"{c.Init.Std} is not positive; use e.g. 0.02");
    }

    private static void CheckLayers(ModelConfig c, ConfigProblems p)
    {
        var layers = c.Layers;
        var kind = layers.Ffn.Kind;
        var routed = kind != FfnKind.Mlp;
        var kindName = ConfigNames.Of(kind);

        p.Check(layers.FirstDense >= 0 && (c.NumLayers <= 0 || layers.FirstDense <= c.NumLayers), "layers.first_dense",
            $"{layers.FirstDense} is outside 0..num_layers ({c.NumLayers})", "num_layers");
        p.Check(!routed || c.NumLayers <= 0 || layers.FirstDense < c.NumLayers, "layers.first_dense",
            $"{layers.FirstDense} makes every one of the {c.NumLayers} layers dense, so layers.ffn ({kindName}) is never used; " +
            $"use 0..{c.NumLayers - 1}, or set layers.ffn.kind to mlp", "num_layers", "layers.ffn.kind");

        var needsDense = !routed || layers.FirstDense > 0;
        if (layers.Dense is null)
        {
            p.Check(!needsDense, "layers.dense",
                routed
                    ? $"missing; the first {layers.FirstDense} layer(s) are dense MLPs: give {{ \"hidden_dim\": ... }} or set layers.first_dense to 0"
                    : "missing; layers.ffn.kind is mlp: give { \"hidden_dim\": ... }",
                "layers.ffn.kind", "layers.first_dense");
        }
        else
        {
            p.Check(needsDense, "layers.dense",
                "is never used (layers.first_dense is 0 and the FFN is routed); remove it or set layers.first_dense", "layers.ffn.kind", "layers.first_dense");
            Positive(p, layers.Dense.HiddenDim, "layers.dense.hidden_dim");
        }

        var ffn = layers.Ffn;
        if (!routed)
        {
            p.Check(ffn.Moe is null, "layers.ffn.moe", "is only used by routed kinds (moe, latent_moe, multi_head_latent_moe); remove it or change layers.ffn.kind", "layers.ffn.kind");
        }
        else
        {
            p.Check(ffn.Moe is not null, "layers.ffn.moe",
                $"missing; kind {kindName} needs {{ \"num_experts\": ..., \"top_k\": ..., \"expert_dim\": ... }}", "layers.ffn.kind");
        }
        p.Check(kind == FfnKind.LatentMoe ? ffn.Latent is not null : ffn.Latent is null, "layers.ffn.latent",
            kind == FfnKind.LatentMoe
                ? "missing; kind latent_moe needs { \"latent_dim\": ... }"
                : $"is only used by kind latent_moe, not {kindName}; remove it or change layers.ffn.kind", "layers.ffn.kind");
        p.Check(kind == FfnKind.MultiHeadLatentMoe ? ffn.Heads is not null : ffn.Heads is null, "layers.ffn.heads",
            kind == FfnKind.MultiHeadLatentMoe
                ? "missing; kind multi_head_latent_moe needs { \"num_heads\": ... }"
                : $"is only used by kind multi_head_latent_moe, not {kindName}; remove it or change layers.ffn.kind", "layers.ffn.kind");

        if (routed && ffn.Moe is { } moe) CheckMoe(moe, kind, p);
        if (kind == FfnKind.LatentMoe && ffn.Latent is { } latent) Positive(p, latent.LatentDim, "layers.ffn.latent.latent_dim");
        if (kind == FfnKind.MultiHeadLatentMoe && ffn.Heads is { } h) CheckHeads(h, c.DModel, p);
    }

    private static void CheckMoe(MoeConfig moe, FfnKind kind, ConfigProblems p)
    {
        Positive(p, moe.NumExperts, "layers.ffn.moe.num_experts");
        Positive(p, moe.ExpertDim, "layers.ffn.moe.expert_dim");
        Positive(p, moe.TopK, "layers.ffn.moe.top_k");
        if (moe.TopK > 0 && moe.NumExperts > 0)
        {
            p.Check(moe.TopK <= moe.NumExperts, "layers.ffn.moe.top_k",
                $"{moe.TopK} exceeds num_experts ({moe.NumExperts}); use 1..{moe.NumExperts}", "layers.ffn.moe.num_experts");
        }
        if (kind == FfnKind.MultiHeadLatentMoe && moe.TopK == 1)
        {
            p.Check(false, "layers.ffn.moe.top_k",
                "1 is not allowed for multi_head_latent_moe: the gate is a softmax over the selected logits, which is constantly 1 " +
                $"for a single expert, so the router would get no gradient; use 2..{Math.Max(2, moe.NumExperts)}" +
                (moe.NumExperts < 2 ? " (and num_experts >= 2)" : ""));
        }
    }

    private static void CheckHeads(HeadsConfig heads, int dModel, ConfigProblems p)
    {
        Positive(p, heads.NumHeads, "layers.ffn.heads.num_heads");
        if (heads.HeadDim is { } headDim)
        {
            Positive(p, headDim, "layers.ffn.heads.head_dim");
        }
        else if (heads.NumHeads > 0 && dModel > 0)
        {
            p.Check(dModel % heads.NumHeads == 0, "layers.ffn.heads.num_heads",
                $"{heads.NumHeads} does not divide d_model ({dModel}), and head_dim is not given; " +
                $"use one of {Divisors(dModel)}, or set layers.ffn.heads.head_dim", "d_model");
        }
    }

    private static void CheckBalancing(BalancingConfig b, ConfigProblems p)
    {
        p.Check(b.BiasUpdateRate >= 0, "balancing.bias_update_rate", $"{b.BiasUpdateRate} is negative; use 0 (off) or a positive step such as 0.025");
        p.Check(b.AuxLossWeight >= 0, "balancing.aux_loss_weight", $"{b.AuxLossWeight} is negative; use 0 (off) or a positive weight such as 0.01");
        p.Check(b.ZLossWeight >= 0, "balancing.z_loss_weight", $"{b.ZLossWeight} is negative; use 0 (off) or a positive weight such as 0.001");
    }

    private static void Positive(ConfigProblems p, int value, string path) =>
        p.Check(value > 0, path, $"{value} is not allowed; use a positive integer");

    private static string Divisors(int n, Func<int, bool>? also = null)
    {
        var divisors = Enumerable.Range(1, n).Where(d => n % d == 0 && (also?.Invoke(d) ?? true)).ToArray();
        return divisors.Length == 0 ? "(none)" : string.Join(", ", divisors);
    }
}
