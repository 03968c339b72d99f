namespace Orleans.MoE.Torch.NN;

/// <summary>
/// A trainable leaf tensor owned by a <see cref="Module"/>. It belongs to no dispose scope: the
/// module that registered it disposes it.
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>A leaf sharing <paramref name="data"/>'s storage; the caller keeps ownership of <paramref name="data"/>.</summary>
    public Parameter(Tensor data, bool requiresGrad = true) : base(NewDetachedHandle(data))
    {
        DetachFromScope();
        RequiresGrad = requiresGrad;
    }
}
