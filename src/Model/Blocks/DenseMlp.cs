using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>
/// The dense FFN: a bias-free two-matrix GELU MLP, down(gelu(up x)), or SwiGLU, down(silu(gate x) * up x).
/// Weights follow the (out, in) convention of a linear layer.
/// </summary>
public sealed class DenseMlp : FeedForward
{
    private readonly Activation _activation;

    public DenseMlp(int dModel, DenseMlpConfig config, WeightInit init)
    {
        _activation = config.Activation;
        HiddenDim = config.HiddenDim;
        if (_activation == Activation.Swiglu) WGate = RegisterParameter("w_gate", init.Normal(HiddenDim, dModel));
        WUp = RegisterParameter("w_up", init.Normal(HiddenDim, dModel));
        WDown = RegisterParameter("w_down", init.OutputProjection(dModel, HiddenDim));
    }

    public int HiddenDim { get; }

    /// <summary>(hidden, d), SwiGLU only.</summary>
    public Parameter? WGate { get; }

    /// <summary>(hidden, d)</summary>
    public Parameter WUp { get; }

    /// <summary>(d, hidden)</summary>
    public Parameter WDown { get; }

    /// <summary>(N, d) -> (N, d)</summary>
    public override FfnOutput Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var hidden = Activate(x, WUp, WGate, _activation);          // (N, hidden)
        return new FfnOutput(scope.MoveToOuter(Functional.Linear(hidden, WDown)), null);
    }

    /// <summary>gelu(x upᵀ), or silu(x gateᵀ) * (x upᵀ): the hidden layer of an MLP or an expert.</summary>
    internal static Tensor Activate(Tensor x, Tensor up, Tensor? gate, Activation activation)
    {
        if (activation == Activation.Gelu) return Functional.Linear(x, up).Gelu();
        using var scope = DisposeScope.Begin();
        var gated = Functional.Linear(x, gate!).Silu() * Functional.Linear(x, up);
        return scope.MoveToOuter(gated);
    }
}
