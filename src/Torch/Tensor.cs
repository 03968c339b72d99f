using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>
/// A handle to one libtorch tensor.
/// <para>
/// Ownership is explicit: a tensor is released by <see cref="Dispose"/>, by the
/// <see cref="DisposeScope"/> that was current when it was created, or, as a safety net only, by
/// its finalizer. Disposing twice, or from two tasks at once, releases the native tensor exactly once.
/// </para>
/// </summary>
public partial class Tensor : IDisposable
{
    private static long _live;
    private IntPtr _handle;

    internal Tensor(IntPtr handle)
    {
        _handle = handle;
        Interlocked.Increment(ref _live);
        DisposeScope.Current?.Attach(this);
    }

    ~Tensor() => Release();

    /// <summary>Native tensors created through the binding and not yet released, process-wide.</summary>
    public static long LiveCount => Interlocked.Read(ref _live);

    internal DisposeScope? Scope { get; set; }

    public bool IsDisposed => Volatile.Read(ref _handle) == IntPtr.Zero;

    internal IntPtr Handle
    {
        get
        {
            var h = Volatile.Read(ref _handle);
            return h != IntPtr.Zero ? h : throw new ObjectDisposedException(nameof(Tensor));
        }
    }

    public void Dispose()
    {
        if (Release())
        {
            Scope?.Forget(this);
            Scope = null;
        }
        GC.SuppressFinalize(this);
    }

    private bool Release()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return false;
        NativeMethods.moe_tensor_free(h);
        Interlocked.Decrement(ref _live);
        return true;
    }

    /// <summary>Removes this tensor from its dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromScope()
    {
        Scope?.Forget(this);
        Scope = null;
        return this;
    }

    /// <summary>A second handle to the same tensor (same storage, same autograd identity), owned separately.</summary>
    public unsafe Tensor Share()
    {
        IntPtr r;
        TorchException.Check(NativeMethods.moe_tensor_share(Handle, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    // ---- metadata

    private unsafe (int Ndim, ScalarType Dtype, Device Device, bool RequiresGrad) Info()
    {
        int ndim, dtype, deviceType, deviceIndex, requiresGrad;
        TorchException.Check(NativeMethods.moe_tensor_info(Handle, &ndim, &dtype, &deviceType, &deviceIndex, &requiresGrad));
        GC.KeepAlive(this);
        return (ndim, (ScalarType)dtype, new Device((DeviceType)deviceType, deviceIndex), requiresGrad != 0);
    }

    public int Dim => Info().Ndim;

    public ScalarType Dtype => Info().Dtype;

    public Device Device => Info().Device;

    public unsafe long[] Shape
    {
        get
        {
            var shape = new long[Dim];
            fixed (long* p = shape) TorchException.Check(NativeMethods.moe_tensor_shape(Handle, p, shape.Length));
            GC.KeepAlive(this);
            return shape;
        }
    }

    /// <summary>The size of one dimension; negative dims count from the end.</summary>
    public long Size(int dim)
    {
        var shape = Shape;
        var d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"tensor has {shape.Length} dimensions");
        return shape[d];
    }

    public unsafe long NumElements
    {
        get
        {
            long n;
            TorchException.Check(NativeMethods.moe_tensor_numel(Handle, &n));
            GC.KeepAlive(this);
            return n;
        }
    }

    public override string ToString() =>
        IsDisposed ? "Tensor(disposed)" : $"Tensor([{string.Join(", ", Shape)}], {Dtype}, {Device})";

    // ---- data in and out

    /// <summary>A new tensor holding a copy of the data, laid out row-major in the given shape.</summary>
    public static Tensor FromArray<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape, Device? device = null)
        where T : unmanaged =>
        FromBytes(MemoryMarshal.AsBytes(data), ScalarTypeExtensions.Of<T>(), shape, device);

    public static Tensor FromArray<T>(T[] data, params long[] shape) where T : unmanaged =>
        FromArray<T>(data.AsSpan(), shape.Length == 0 ? [data.LongLength] : shape);

    /// <summary>A new tensor from raw little-endian element bytes (any dtype, bfloat16 included).</summary>
    public static unsafe Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType dtype, ReadOnlySpan<long> shape, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        fixed (byte* data = bytes)
        fixed (long* s = shape)
        {
            TorchException.Check(NativeMethods.moe_tensor_from_data(data, bytes.Length, s, shape.Length, (int)dtype,
                (int)d.Type, d.Index, &r));
        }
        return new Tensor(r);
    }

    /// <summary>A scalar tensor.</summary>
    public static Tensor Scalar<T>(T value, Device? device = null) where T : unmanaged =>
        FromArray<T>(new ReadOnlySpan<T>(in value), ReadOnlySpan<long>.Empty, device);

    /// <summary>Copies the elements (row-major) into the destination, whose type must match the dtype.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        var expected = ScalarTypeExtensions.Of<T>();
        var actual = Dtype;
        if (actual != expected)
            throw new InvalidOperationException($"tensor holds {actual} elements, not {expected}; convert it with To({expected}) first");
        CopyBytesTo(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Copies the raw element bytes (row-major, little-endian) into the destination.</summary>
    public unsafe void CopyBytesTo(Span<byte> destination)
    {
        fixed (byte* p = destination) TorchException.Check(NativeMethods.moe_tensor_copy_to(Handle, p, destination.Length));
        GC.KeepAlive(this);
    }

    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[NumElements];
        CopyTo<T>(result);
        return result;
    }

    public byte[] ToBytes()
    {
        var result = new byte[NumElements * Dtype.ElementSize()];
        CopyBytesTo(result);
        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public unsafe double Item()
    {
        double d;
        long l;
        TorchException.Check(NativeMethods.moe_tensor_item(Handle, &d, &l));
        GC.KeepAlive(this);
        return d;
    }

    /// <summary>The value of a one-element integral tensor, exactly.</summary>
    public unsafe long ItemInt64()
    {
        double d;
        long l;
        TorchException.Check(NativeMethods.moe_tensor_item(Handle, &d, &l));
        GC.KeepAlive(this);
        return l;
    }

    /// <summary>True when both tensors have the same shape and exactly the same elements.</summary>
    public unsafe bool Equal(Tensor other)
    {
        int equal;
        TorchException.Check(NativeMethods.moe_tensor_equal(Handle, other.Handle, &equal));
        GC.KeepAlive(this);
        GC.KeepAlive(other);
        return equal != 0;
    }
}
