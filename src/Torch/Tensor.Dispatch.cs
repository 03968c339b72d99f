using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

// The few places that cross into native code for the op-coded exports. Each one syncs the grad
// mode of the async flow onto the thread, checks the status, and keeps the operands alive until
// the call has returned (otherwise the finalizer could free a handle mid-call).
public partial class Tensor
{
    internal unsafe Tensor Unary(UnaryOp op)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_unary((int)op, Handle, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    internal unsafe Tensor Binary(BinaryOp op, Tensor other)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_binary((int)op, Handle, other.Handle, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(other);
        return new Tensor(r);
    }

    internal unsafe Tensor WithScalar(ScalarOp op, double value, bool integral)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_scalar((int)op, Handle, value, integral ? 1 : 0, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    // Chosen for long arguments: an integral scalar crosses as an int64, not through a double
    // (which holds integers exactly only up to 2^53).
    internal unsafe Tensor WithScalar(ScalarOp op, long value, bool integral)
    {
        if (!integral) return WithScalar(op, (double)value, integral: false);
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_scalar_int64((int)op, Handle, value, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    internal unsafe Tensor Reduce(ReduceOp op, ReadOnlySpan<long> dims, bool keepDim)
    {
        GradMode.Sync();
        IntPtr r;
        fixed (long* d = dims) TorchException.Check(NativeMethods.moe_reduce((int)op, Handle, d, dims.Length, keepDim ? 1 : 0, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    internal unsafe Tensor ShapeOp(ShapeOp op, ReadOnlySpan<long> args)
    {
        GradMode.Sync();
        IntPtr r;
        fixed (long* a = args) TorchException.Check(NativeMethods.moe_shape_op((int)op, Handle, a, args.Length, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    internal unsafe void InPlace(InPlaceOp op, Tensor? other, double value)
    {
        GradMode.Sync();
        TorchException.Check(NativeMethods.moe_inplace((int)op, Handle, other?.Handle ?? IntPtr.Zero, value));
        GC.KeepAlive(this);
        GC.KeepAlive(other);
    }

    /// <summary>A raw handle to a detached alias of the tensor, for subclasses that wrap it.</summary>
    protected static unsafe IntPtr NewDetachedHandle(Tensor source)
    {
        IntPtr r;
        TorchException.Check(NativeMethods.moe_unary((int)UnaryOp.Detach, source.Handle, &r));
        GC.KeepAlive(source);
        return r;
    }
}
