using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// Computes the routed experts of a layer whose experts are spread over ranks: expert parallelism
/// sends each (token, expert) assignment to the rank that owns the expert and the results back.
/// Without it, the layer holds every expert and computes them in place.
/// </summary>
public interface IExpertDispatch
{
    /// <summary>
    /// rows (R, w) this rank's tokens; routed: global expert ids (R·k), gates (R, k), counts over all
    /// N_e experts; localExperts: this rank's slice of the experts (<see cref="ExpertBank.Slice"/>).
    /// Returns (R, w): for each row, the gate-weighted sum of its k experts' outputs.
    /// </summary>
    Tensor Apply(ExpertBank localExperts, Tensor rows, RoutedTokens routed);
}
