namespace Orleans.MoE.Torch.NN;

/// <summary>A lookup table of shape (count, dim), initialised N(0, 1) as torch.nn.Embedding.</summary>
public sealed class Embedding : Module
{
    public Embedding(long count, long dim, Generator? generator = null)
    {
        using var w = Tensor.Randn([count, dim], generator);
        Weight = RegisterParameter("weight", new Parameter(w));
    }

    public Parameter Weight { get; }

    /// <summary>Int64 indices (...) -> (..., dim)</summary>
    public Tensor Forward(Tensor indices) => Functional.Embedding(Weight, indices);
}
