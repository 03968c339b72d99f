using System.Globalization;
using System.Text;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Model.Accounting;

/// <summary>
/// Parameter counts of a configuration, by role. Routed = the weights of all routed experts; Active =
/// what one token uses: everything that is not a routed expert (embedding and classifier included, as
/// the paper counts "active" parameters), plus the k experts it is routed to (per head for Multi-Head
/// LatentMoE). Routers count as active: every token multiplies by all of a router's columns.
/// </summary>
public sealed record ParameterCounts(
    long Total,
    long Routed,
    long Active,
    long Embedding,
    long Classifier,
    long Attention,
    long Norms,
    long DenseMlp,
    long Routers,
    long LatentProjections,
    long ActiveExperts);

/// <summary>
/// Parameter counts and training FLOPs per token, computed from the configuration alone.
/// <para>
/// FLOPs follow the usual convention (Kaplan et al.; PaLM, Appendix B): a weight used once per token
/// costs 2 FLOPs forward and 4 backward, so training costs 6 x the active matrix parameters (embedding
/// lookup and norm weights excluded; the classifier included), plus 12 · n_layers · d · T for the
/// attention scores and their weighted sum over a context of T tokens (q kᵀ and the product with v,
/// 2 · 2 · T · d forward, without halving for the causal mask). Element-wise work (norms, activations,
/// softmax, gating) is not counted.
/// </para>
/// </summary>
public sealed record ModelAccounting(ParameterCounts Parameters, int SequenceLength, double TrainingFlopsPerToken)
{
    public static ModelAccounting Of(ModelConfig c, int? sequenceLength = null)
    {
        long d = c.DModel, v = c.VocabSize;
        long embedding = v * d;
        long classifier = c.TieEmbeddings ? 0 : v * d;
        long attention = 0, norms = d, dense = 0, routers = 0, latent = 0, routed = 0, activeExperts = 0;
        for (var layer = 0; layer < c.NumLayers; layer++)
        {
            attention += 4 * d * d;   // wqkv (3d, d) and wo (d, d)
            norms += 2 * d;
            var kind = c.FfnKindOf(layer);
            if (kind == FfnKind.Mlp)
            {
                var mlp = c.Layers.Dense!;
                dense += Matrices(mlp.Activation) * d * mlp.HiddenDim;
                continue;
            }
            var moe = c.Layers.Ffn.Moe!;
            var (groups, width) = kind switch
            {
                FfnKind.Moe => (1L, d),
                FfnKind.LatentMoe => (1L, (long)c.Layers.Ffn.Latent!.LatentDim),
                _ => ((long)c.Layers.Ffn.Heads!.NumHeads, (long)c.Layers.Ffn.Heads!.ResolveHeadDim(c.DModel)),
            };
            var perExpert = Matrices(moe.Activation) * width * moe.ExpertDim;
            var routerWidth = kind == FfnKind.MultiHeadLatentMoe ? width : d;   // LatentMoE routes the full-width token
            routers += groups * routerWidth * moe.NumExperts;
            if (kind != FfnKind.Moe) latent += 2 * d * groups * width;   // W↓ and W↑, or W_in and W_out
            routed += groups * moe.NumExperts * perExpert;
            activeExperts += groups * moe.TopK * perExpert;
        }
        var total = embedding + classifier + attention + norms + dense + routers + latent + routed;
        var active = total - routed + activeExperts;
        var counts = new ParameterCounts(total, routed, active, embedding, classifier, attention, norms, dense, routers, latent, activeExperts);

        var t = sequenceLength ?? c.MaxSeqLen;
        var matrixActive = active - norms - (c.TieEmbeddings ? 0 : embedding);
        var flops = 6.0 * matrixActive + 12.0 * c.NumLayers * d * t;
        return new ModelAccounting(counts, t, flops);
    }

    private static long Matrices(Activation activation) => activation == Activation.Swiglu ? 3 : 2;

    /// <summary>A few lines for the start of a training log.</summary>
    public string Describe()
    {
        var p = Parameters;
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"parameters: {Format(p.Total)} total, {Format(p.Active)} active per token, {Format(p.Routed)} in routed experts");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"  embedding {Format(p.Embedding)}, classifier {(p.Classifier == 0 ? "tied" : Format(p.Classifier))}, attention {Format(p.Attention)}, " +
            $"dense MLP {Format(p.DenseMlp)}, routers {Format(p.Routers)}, latent projections {Format(p.LatentProjections)}, norms {Format(p.Norms)}");
        s.Append(CultureInfo.InvariantCulture, $"training FLOPs per token: {TrainingFlopsPerToken / 1e6:F1} M (context {SequenceLength})");
        return s.ToString();
    }

    private static string Format(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
