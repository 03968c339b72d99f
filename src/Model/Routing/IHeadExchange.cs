using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// Moves the sub-tokens of a Multi-Head LatentMoE layer from the ranks that own the tokens to the
/// ranks that own the heads, and the heads' outputs back. Head parallelism implements it with one
/// all-to-all each way; without it, the layer holds every head and nothing moves.
/// </summary>
public interface IHeadExchange
{
    /// <summary>(N_h, n, d_h) this rank's tokens, all heads -> (N_h / P, P·n, d_h) this rank's heads, every rank's tokens (rank-major).</summary>
    Tensor ToHeadOwners(Tensor subTokens);

    /// <summary>The inverse: (N_h / P, P·n, d_h) -> (N_h, n, d_h).</summary>
    Tensor ToTokenOwners(Tensor headOutputs);
}
