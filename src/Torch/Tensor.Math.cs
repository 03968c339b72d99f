using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

// Element-wise arithmetic (broadcasting), comparisons, matrix products and reductions.
// Scalars given as long stay integral with integral tensors (as Python ints do); doubles promote.
public partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => a.Binary(BinaryOp.Add, b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Binary(BinaryOp.Sub, b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Binary(BinaryOp.Mul, b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Binary(BinaryOp.Div, b);
    public static Tensor operator -(Tensor a) => a.Unary(UnaryOp.Neg);

    public static Tensor operator +(Tensor a, double b) => a.WithScalar(ScalarOp.Add, b, false);
    public static Tensor operator +(Tensor a, long b) => a.WithScalar(ScalarOp.Add, b, true);
    public static Tensor operator +(double a, Tensor b) => b.WithScalar(ScalarOp.Add, a, false);
    public static Tensor operator +(long a, Tensor b) => b.WithScalar(ScalarOp.Add, a, true);
    public static Tensor operator -(Tensor a, double b) => a.WithScalar(ScalarOp.Sub, b, false);
    public static Tensor operator -(Tensor a, long b) => a.WithScalar(ScalarOp.Sub, b, true);
    public static Tensor operator -(double a, Tensor b) => b.WithScalar(ScalarOp.RSub, a, false);
    public static Tensor operator -(long a, Tensor b) => b.WithScalar(ScalarOp.RSub, a, true);
    public static Tensor operator *(Tensor a, double b) => a.WithScalar(ScalarOp.Mul, b, false);
    public static Tensor operator *(Tensor a, long b) => a.WithScalar(ScalarOp.Mul, b, true);
    public static Tensor operator *(double a, Tensor b) => b.WithScalar(ScalarOp.Mul, a, false);
    public static Tensor operator *(long a, Tensor b) => b.WithScalar(ScalarOp.Mul, a, true);
    public static Tensor operator /(Tensor a, double b) => a.WithScalar(ScalarOp.Div, b, false);
    public static Tensor operator /(double a, Tensor b) => b.WithScalar(ScalarOp.RDiv, a, false);

    public Tensor Add(Tensor other) => Binary(BinaryOp.Add, other);
    public Tensor Sub(Tensor other) => Binary(BinaryOp.Sub, other);
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, other);
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, other);
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, exponent);
    public Tensor Pow(double exponent) => WithScalar(ScalarOp.Pow, exponent, false);
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, other);
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, other);
    public Tensor Remainder(Tensor other) => Binary(BinaryOp.Remainder, other);
    public Tensor Remainder(long divisor) => WithScalar(ScalarOp.Remainder, divisor, true);
    public Tensor FloorDivide(Tensor other) => Binary(BinaryOp.FloorDivide, other);
    public Tensor FloorDivide(long divisor) => WithScalar(ScalarOp.FloorDivide, divisor, true);

    /// <summary>Matrix product with numpy broadcasting rules (torch.matmul).</summary>
    public Tensor MatMul(Tensor other) => Binary(BinaryOp.Matmul, other);

    /// <summary>Batched matrix product of (B, n, m) and (B, m, p).</summary>
    public Tensor Bmm(Tensor other) => Binary(BinaryOp.Bmm, other);

    /// <summary>Product of two 2-D matrices.</summary>
    public Tensor Mm(Tensor other) => Binary(BinaryOp.Mm, other);

    // ---- comparisons and logic (results are Bool tensors)
    public Tensor Eq(Tensor other) => Binary(BinaryOp.Eq, other);
    public Tensor Ne(Tensor other) => Binary(BinaryOp.Ne, other);
    public Tensor Lt(Tensor other) => Binary(BinaryOp.Lt, other);
    public Tensor Le(Tensor other) => Binary(BinaryOp.Le, other);
    public Tensor Gt(Tensor other) => Binary(BinaryOp.Gt, other);
    public Tensor Ge(Tensor other) => Binary(BinaryOp.Ge, other);
    public Tensor Eq(double value) => WithScalar(ScalarOp.Eq, value, false);
    public Tensor Ne(double value) => WithScalar(ScalarOp.Ne, value, false);
    public Tensor Lt(double value) => WithScalar(ScalarOp.Lt, value, false);
    public Tensor Le(double value) => WithScalar(ScalarOp.Le, value, false);
    public Tensor Gt(double value) => WithScalar(ScalarOp.Gt, value, false);
    public Tensor Ge(double value) => WithScalar(ScalarOp.Ge, value, false);
    public Tensor LogicalAnd(Tensor other) => Binary(BinaryOp.LogicalAnd, other);
    public Tensor LogicalOr(Tensor other) => Binary(BinaryOp.LogicalOr, other);
    public Tensor LogicalNot() => Unary(UnaryOp.LogicalNot);
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);

    // ---- element-wise functions
    public Tensor Neg() => Unary(UnaryOp.Neg);
    public Tensor Exp() => Unary(UnaryOp.Exp);
    public Tensor Log() => Unary(UnaryOp.Log);
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    public Tensor Abs() => Unary(UnaryOp.Abs);
    public Tensor Square() => Unary(UnaryOp.Square);
    public Tensor Sign() => Unary(UnaryOp.Sign);
    public Tensor Floor() => Unary(UnaryOp.Floor);
    public Tensor Sin() => Unary(UnaryOp.Sin);
    public Tensor Cos() => Unary(UnaryOp.Cos);
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    public Tensor Relu() => Unary(UnaryOp.Relu);

    /// <summary>Exact GELU: x * Phi(x) with the Gaussian CDF (not the tanh approximation).</summary>
    public Tensor Gelu() => Unary(UnaryOp.Gelu);

    /// <summary>GELU with the tanh approximation.</summary>
    public Tensor GeluTanh() => Unary(UnaryOp.GeluTanh);

    public Tensor Silu() => Unary(UnaryOp.Silu);

    public unsafe Tensor Clamp(double? min = null, double? max = null)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_clamp(Handle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    /// <summary>Elements of this tensor where the mask is false, <paramref name="value"/> where it is true.</summary>
    public unsafe Tensor MaskedFill(Tensor mask, double value)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_masked_fill(Handle, mask.Handle, value, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(mask);
        return new Tensor(r);
    }

    /// <summary>Elements of <paramref name="whenTrue"/> where the condition holds, of <paramref name="whenFalse"/> elsewhere.</summary>
    public static unsafe Tensor Where(Tensor condition, Tensor whenTrue, Tensor whenFalse)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_where(condition.Handle, whenTrue.Handle, whenFalse.Handle, &r));
        GC.KeepAlive(condition);
        GC.KeepAlive(whenTrue);
        GC.KeepAlive(whenFalse);
        return new Tensor(r);
    }

    // ---- reductions
    public Tensor Sum() => Reduce(ReduceOp.Sum, [], false);
    public Tensor Sum(int dim, bool keepDim = false) => Reduce(ReduceOp.Sum, [dim], keepDim);
    public Tensor Sum(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Sum, dims, keepDim);
    public Tensor Mean() => Reduce(ReduceOp.Mean, [], false);
    public Tensor Mean(int dim, bool keepDim = false) => Reduce(ReduceOp.Mean, [dim], keepDim);
    public Tensor Mean(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Mean, dims, keepDim);

    /// <summary>The largest element.</summary>
    public Tensor Max() => Reduce(ReduceOp.Amax, [], false);

    public Tensor Amax(int dim, bool keepDim = false) => Reduce(ReduceOp.Amax, [dim], keepDim);
    public Tensor Min() => Reduce(ReduceOp.Amin, [], false);
    public Tensor Amin(int dim, bool keepDim = false) => Reduce(ReduceOp.Amin, [dim], keepDim);
    public Tensor LogSumExp(int dim, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, [dim], keepDim);

    /// <summary>Largest values along a dimension and where they are.</summary>
    public unsafe (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false)
    {
        GradMode.Sync();
        IntPtr v, i;
        TorchException.Check(NativeMethods.moe_max_dim(Handle, dim, keepDim ? 1 : 0, &v, &i));
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Index of the largest element of the flattened tensor.</summary>
    public unsafe Tensor ArgMax()
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_argmax(Handle, 0, 0, 0, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    public unsafe Tensor ArgMax(int dim, bool keepDim = false)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_argmax(Handle, 1, dim, keepDim ? 1 : 0, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    public Tensor Softmax(int dim) => SoftmaxCore(dim, log: false);
    public Tensor LogSoftmax(int dim) => SoftmaxCore(dim, log: true);

    private unsafe Tensor SoftmaxCore(int dim, bool log)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_softmax(Handle, dim, log ? 1 : 0, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    // ---- conversion

    /// <summary>This tensor converted to another element type (a new tensor, or this one's data if already of that type).</summary>
    public Tensor To(ScalarType dtype) => ToCore((int)dtype, -1, 0);

    public Tensor To(Device device) => ToCore(-1, (int)device.Type, device.Index);

    public Tensor To(ScalarType dtype, Device device) => ToCore((int)dtype, (int)device.Type, device.Index);

    private unsafe Tensor ToCore(int dtype, int deviceType, int deviceIndex)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_to(Handle, dtype, deviceType, deviceIndex, &r));
        GC.KeepAlive(this);
        return new Tensor(r);
    }

    // ---- in place (use under GradMode.NoGrad() on tensors that require grad)
    public Tensor Zero_() { InPlace(InPlaceOp.Zero, null, 0); return this; }
    public Tensor Fill_(double value) { InPlace(InPlaceOp.Fill, null, value); return this; }
    public Tensor Copy_(Tensor source) { InPlace(InPlaceOp.Copy, source, 0); return this; }
    public Tensor Add_(Tensor other, double alpha = 1.0) { InPlace(InPlaceOp.Add, other, alpha); return this; }
    public Tensor Mul_(double value) { InPlace(InPlaceOp.MulScalar, null, value); return this; }
}
