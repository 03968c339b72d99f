using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

public partial class Tensor
{
    public bool RequiresGrad
    {
        get => Info().RequiresGrad;
        set
        {
            TorchException.Check(NativeMethods.moe_tensor_set_requires_grad(Handle, value ? 1 : 0));
            GC.KeepAlive(this);
        }
    }

    /// <summary>Marks this tensor as a leaf that accumulates gradients; returns it.</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Backpropagates from this scalar (or, with a gradient of the same shape, from any tensor).</summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        TorchException.Check(NativeMethods.moe_backward(Handle, gradient?.Handle ?? IntPtr.Zero, retainGraph ? 1 : 0));
        GC.KeepAlive(this);
        GC.KeepAlive(gradient);
    }

    /// <summary>
    /// A new handle to the accumulated gradient, or null before any backward pass reached this tensor.
    /// The handle shares storage with the gradient; dispose it when done.
    /// </summary>
    public unsafe Tensor? Grad
    {
        get
        {
            IntPtr r;
            TorchException.Check(NativeMethods.moe_tensor_grad(Handle, &r));
            GC.KeepAlive(this);
            return r == IntPtr.Zero ? null : new Tensor(r);
        }
        set
        {
            TorchException.Check(NativeMethods.moe_tensor_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
            GC.KeepAlive(this);
            GC.KeepAlive(value);
        }
    }

    /// <summary>Clears the accumulated gradient (sets it to none, as PyTorch's zero_grad(set_to_none=True)).</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>
    /// Points this tensor at <paramref name="data"/>'s storage, dtype and device, as PyTorch's
    /// <c>tensor.data = data</c>: the same object and autograd leaf, new contents. The caller keeps
    /// ownership of <paramref name="data"/>.
    /// </summary>
    internal void SetData(Tensor data)
    {
        TorchException.Check(NativeMethods.moe_tensor_set_data(Handle, data.Handle));
        GC.KeepAlive(data);
    }

    /// <summary>A tensor sharing this one's data but cut from the autograd graph.</summary>
    public Tensor Detach() => Unary(UnaryOp.Detach);
}
