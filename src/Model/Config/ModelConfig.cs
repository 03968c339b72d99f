using System.ComponentModel;

namespace Orleans.MoE.Model.Config;

/// <summary>
/// The architecture of a decoder-only transformer, as read from a model file (JSON or YAML, snake_case
/// keys: <c>vocab_size</c>, <c>layers.ffn.moe.top_k</c>, ...). Load it with <see cref="ModelConfigLoader"/>,
/// which validates it completely; records built in code are checked by <see cref="ModelConfigValidator"/>
/// when a model is constructed. Every settable property is a field of the file; a
/// <see cref="DescriptionAttribute"/> is the hint an error message gives for it.
/// <para>
/// Required fields have no default. The optional ones default to the values of the Multi-Head LatentMoE
/// paper's setup where it gives one (init std 0.02, rope base 10000, aux-free balancing at rate
/// 50 x 5e-4) and to common practice where it is silent (RMSNorm eps 1e-5).
/// </para>
/// </summary>
public sealed record ModelConfig
{
    [Description("set the vocabulary size (e.g. 256 for bytes, 50304 for GPT-2 padded)")]
    public required int VocabSize { get; init; }

    /// <summary>Model width d.</summary>
    [Description("set the model width d (e.g. 1024)")]
    public required int DModel { get; init; }

    [Description("set the number of transformer blocks (e.g. 12)")]
    public required int NumLayers { get; init; }

    /// <summary>Longest sequence the rotary tables and the causal mask are built for.</summary>
    [Description("set the longest sequence the model accepts (e.g. 2048)")]
    public required int MaxSeqLen { get; init; }

    public required AttentionConfig Attention { get; init; }

    public required LayersConfig Layers { get; init; }

    /// <summary>RMSNorm epsilon (the paper does not give one; 1e-5 as LLaMA).</summary>
    public double NormEps { get; init; } = DefaultNormEps;

    public const double DefaultNormEps = 1e-5;

    /// <summary>Share the embedding matrix with the classifier (the paper unties them).</summary>
    public bool TieEmbeddings { get; init; }

    public BalancingConfig Balancing { get; init; } = new();

    public InitConfig Init { get; init; } = new();

    /// <summary>The FFN kind of one layer: the first <c>layers.first_dense</c> layers are dense MLPs.</summary>
    public FfnKind FfnKindOf(int layer) => layer < Layers.FirstDense ? FfnKind.Mlp : Layers.Ffn.Kind;

    /// <summary>Width of one attention head.</summary>
    public int AttentionHeadDim() => DModel / Attention.NumHeads;
}

public sealed record AttentionConfig
{
    /// <summary>Attention heads; must divide d_model, and the head width must be even for rotary embeddings.</summary>
    [Description("set the number of attention heads; it must divide d_model")]
    public required int NumHeads { get; init; }

    public double RopeBase { get; init; } = DefaultRopeBase;

    public const double DefaultRopeBase = 10000;
}

/// <summary>Which FFN each layer gets: the first <see cref="FirstDense"/> layers are dense MLPs, the rest <see cref="Ffn"/>.</summary>
public sealed record LayersConfig
{
    /// <summary>Leading layers whose FFN is a dense MLP (the paper uses 2, after DeepSeek-V3).</summary>
    public int FirstDense { get; init; }

    /// <summary>The dense MLP of the first layers, and of every layer when the FFN kind is mlp.</summary>
    public DenseMlpConfig? Dense { get; init; }

    public required FfnConfig Ffn { get; init; }
}

public enum FfnKind
{
    Mlp,
    Moe,
    LatentMoe,
    MultiHeadLatentMoe,
}

/// <summary>Expert and MLP non-linearities: a two-matrix GELU MLP (exact GELU), or SwiGLU (three matrices).</summary>
public enum Activation
{
    Gelu,
    Swiglu,
}

public sealed record DenseMlpConfig
{
    [Description("set the MLP hidden width (e.g. 4 x d_model)")]
    public required int HiddenDim { get; init; }

    public Activation Activation { get; init; } = Activation.Gelu;
}

/// <summary>
/// The FFN of the layers after the first dense ones. <see cref="Moe"/> is required for every routed kind;
/// <see cref="Latent"/> only for latent_moe, <see cref="Heads"/> only for multi_head_latent_moe.
/// </summary>
public sealed record FfnConfig
{
    [Description("choose the FFN kind")]
    public required FfnKind Kind { get; init; }

    public MoeConfig? Moe { get; init; }

    public LatentConfig? Latent { get; init; }

    public HeadsConfig? Heads { get; init; }
}

/// <summary>The routed experts. For Multi-Head LatentMoE these are per head: each head has its own N_e experts.</summary>
public sealed record MoeConfig
{
    /// <summary>N_e.</summary>
    [Description("set N_e, the number of experts (per head for multi_head_latent_moe)")]
    public required int NumExperts { get; init; }

    /// <summary>k, experts selected per token (per sub-token for Multi-Head LatentMoE).</summary>
    [Description("set k, the number of experts each token is routed to")]
    public required int TopK { get; init; }

    /// <summary>d_e, the hidden width of one expert.</summary>
    [Description("set d_e, the hidden width of one expert")]
    public required int ExpertDim { get; init; }

    public Activation Activation { get; init; } = Activation.Gelu;

    /// <summary>
    /// How the router and the experts are computed: fused (one native call each, hidden layers recomputed
    /// in the backward) or reference (the composition of tensor operations the fused kernels are checked
    /// against). Both give the same results within float32 rounding.
    /// </summary>
    [Description("choose how routing and experts are computed: fused (faster) or reference (the composed tensor operations)")]
    public RoutedKernels Kernels { get; init; } = RoutedKernels.Fused;
}

/// <summary>The implementation of a routed layer's router and expert bank.</summary>
public enum RoutedKernels
{
    /// <summary>Native fused kernels: chunked router logits, one grouped pass over the experts.</summary>
    Fused,

    /// <summary>Tensor operations composed in managed code, one autograd node each: the numerical reference.</summary>
    Reference,
}

public sealed record LatentConfig
{
    /// <summary>ℓ, the width the shared down-projection maps to (LatentMoE recommends d/4).</summary>
    [Description("set the latent width (LatentMoE recommends d_model / 4)")]
    public required int LatentDim { get; init; }
}

public sealed record HeadsConfig
{
    /// <summary>N_h.</summary>
    [Description("set N_h, the number of sub-tokens each token is split into")]
    public required int NumHeads { get; init; }

    /// <summary>d_h; when absent, d_model / N_h (N_h must then divide d_model).</summary>
    public int? HeadDim { get; init; }

    /// <summary>d_h as given, or d_model / N_h.</summary>
    public int ResolveHeadDim(int dModel) => HeadDim ?? dModel / NumHeads;
}

/// <summary>Load balancing of the routed layers.</summary>
public sealed record BalancingConfig
{
    /// <summary>
    /// Step of the auxiliary-loss-free bias update, applied once per optimizer step (0 turns it off).
    /// The paper's code uses 50 x max learning rate: 0.025 at its 5e-4.
    /// </summary>
    public double BiasUpdateRate { get; init; } = 0.025;

    /// <summary>Weight of the Switch-style load-balancing loss (0 = off, as in the paper).</summary>
    public double AuxLossWeight { get; init; }

    /// <summary>Weight of the router z-loss, mean of logsumexp(logits)² (0 = off, as in the paper).</summary>
    public double ZLossWeight { get; init; }
}

public sealed record InitConfig
{
    /// <summary>Standard deviation of the normal initialisation; output projections get std / sqrt(2 n_layers).</summary>
    public double Std { get; init; } = 0.02;

    /// <summary>Seed of the generator all weights are drawn from, in registration order.</summary>
    public ulong Seed { get; init; }
}
