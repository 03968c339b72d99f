using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>RMSNorm without bias: x / sqrt(mean(x²) + eps) * weight, over the last dimension.</summary>
public sealed class RmsNorm : Module
{
    private readonly double _eps;

    public RmsNorm(long dim, double eps, WeightInit init)
    {
        _eps = eps;
        Weight = RegisterParameter("weight", init.Ones(dim));
    }

    /// <summary>(d)</summary>
    public Parameter Weight { get; }

    /// <summary>(..., d) -> (..., d)</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var meanSquare = x.Square().Mean(-1, keepDim: true);   // (..., 1)
        var inverseRms = (meanSquare + _eps).Rsqrt();          // (..., 1)
        return scope.MoveToOuter(x * inverseRms * Weight);     // (..., d)
    }
}
