using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

// New tensors. Random factories take a Generator for reproducible sampling; without one they use
// libtorch's default generator (seeded by TorchRuntime.ManualSeed).
public partial class Tensor
{
    public static Tensor Zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Full(shape, 0, dtype, device);

    public static Tensor Ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Full(shape, 1, dtype, device);

    public static unsafe Tensor Full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        fixed (long* s = shape) TorchException.Check(NativeMethods.moe_full(s, shape.Length, value, (int)dtype, (int)d.Type, d.Index, &r));
        return new Tensor(r);
    }

    /// <summary>Uninitialised memory: every element must be written before it is read.</summary>
    public static unsafe Tensor Empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        fixed (long* s = shape) TorchException.Check(NativeMethods.moe_empty(s, shape.Length, (int)dtype, (int)d.Type, d.Index, &r));
        return new Tensor(r);
    }

    /// <summary>Values start, start+step, ... below end (Int64 by default, as torch.arange with integers).</summary>
    public static unsafe Tensor Arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        TorchException.Check(NativeMethods.moe_arange(start, end, step, (int)dtype, (int)d.Type, d.Index, &r));
        return new Tensor(r);
    }

    public static Tensor Arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) =>
        Arange(0, end, 1, dtype, device);

    public Tensor ZerosLike() => Unary(UnaryOp.ZerosLike);

    public Tensor OnesLike() => Unary(UnaryOp.OnesLike);

    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Random(RandomKind.Normal, shape, generator, dtype, device);

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Random(RandomKind.Uniform, shape, generator, dtype, device);

    private static unsafe Tensor Random(RandomKind kind, long[] shape, Generator? generator, ScalarType dtype, Device? device)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        fixed (long* s = shape)
        {
            TorchException.Check(NativeMethods.moe_random((int)kind, s, shape.Length, (int)dtype, (int)d.Type, d.Index,
                GeneratorHandle(generator), &r));
        }
        GC.KeepAlive(generator);
        return new Tensor(r);
    }

    /// <summary>Uniform integers in [low, high).</summary>
    public static unsafe Tensor RandInt(long low, long high, long[] shape, Generator? generator = null,
        ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        fixed (long* s = shape)
        {
            TorchException.Check(NativeMethods.moe_randint(low, high, s, shape.Length, (int)dtype, (int)d.Type, d.Index,
                GeneratorHandle(generator), &r));
        }
        GC.KeepAlive(generator);
        return new Tensor(r);
    }

    /// <summary>A random permutation of 0..n-1 (Int64).</summary>
    public static unsafe Tensor RandPerm(long n, Generator? generator = null, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        IntPtr r;
        TorchException.Check(NativeMethods.moe_randperm(n, (int)d.Type, d.Index, GeneratorHandle(generator), &r));
        GC.KeepAlive(generator);
        return new Tensor(r);
    }

    /// <summary>Samples 0/1 with the probabilities held in this tensor.</summary>
    public unsafe Tensor Bernoulli(Generator? generator = null)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_bernoulli(Handle, GeneratorHandle(generator), &r));
        GC.KeepAlive(this);
        GC.KeepAlive(generator);
        return new Tensor(r);
    }

    /// <summary>Fills this tensor with N(mean, std²) samples, without recording autograd history.</summary>
    public Tensor Normal_(double mean, double std, Generator? generator = null)
    {
        TorchException.Check(NativeMethods.moe_normal_(Handle, mean, std, GeneratorHandle(generator)));
        GC.KeepAlive(this);
        GC.KeepAlive(generator);
        return this;
    }

    /// <summary>Fills this tensor with U[low, high) samples, without recording autograd history.</summary>
    public Tensor Uniform_(double low, double high, Generator? generator = null)
    {
        TorchException.Check(NativeMethods.moe_uniform_(Handle, low, high, GeneratorHandle(generator)));
        GC.KeepAlive(this);
        GC.KeepAlive(generator);
        return this;
    }

    internal static IntPtr GeneratorHandle(Generator? generator) => generator?.DangerousGetHandle() ?? IntPtr.Zero;
}
