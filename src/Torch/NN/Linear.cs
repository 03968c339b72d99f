namespace Orleans.MoE.Torch.NN;

/// <summary>y = x Wᵀ (+ b), W of shape (out, in). Initialised as torch.nn.Linear: U(-1/√in, 1/√in).</summary>
public sealed class Linear : Module
{
    public Linear(long inFeatures, long outFeatures, bool bias = true, Generator? generator = null)
    {
        var bound = 1.0 / Math.Sqrt(inFeatures);
        using var w = Tensor.Empty([outFeatures, inFeatures]).Uniform_(-bound, bound, generator);
        Weight = RegisterParameter("weight", new Parameter(w));
        if (bias)
        {
            using var b = Tensor.Empty([outFeatures]).Uniform_(-bound, bound, generator);
            Bias = RegisterParameter("bias", new Parameter(b));
        }
    }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    /// <summary>(..., in) -> (..., out)</summary>
    public Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);
}
