using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Bench;

/// <summary>
/// The small ops measured on both sides, on (16,) fp32 operands: element-wise add of two tensors,
/// multiply by a double scalar, relu. Besides the C++ reference's two columns (<c>cpp</c>: ATen
/// directly; <c>cabi</c>: the C ABI called from C++), each is measured four ways from C#:
/// <list type="bullet">
/// <item><b>dispose</b>: <c>using var r = a + b;</c>, no scope current: allocation of the result, the
/// wrapper and the native release are all inside the timed loop;</item>
/// <item><b>scope</b>: the results attach to a <see cref="DisposeScope"/> that is begun and disposed
/// every <see cref="ScopeBlock"/> ops inside the timed loop (the way a training step is written);</item>
/// <item><b>dispose-in-scope</b>: <c>using var r</c> while a scope is current, so the result is
/// attached to the scope and forgotten by it again (temporaries inside a scoped step);</item>
/// <item><b>pinvoke</b>: the two raw exports (op + <c>moe_tensor_free</c>) with no managed wrapper,
/// to split the overhead between the interop transition and the wrapper.</item>
/// </list>
/// </summary>
internal static class SmallOps
{
    public const int ScopeBlock = 64;

    public sealed record Op(string Name, Func<Tensor, Tensor, Tensor> Managed, Func<IntPtr, IntPtr, IntPtr> Raw);

    public static readonly Op[] All =
    [
        new("add", (a, b) => a + b, (a, b) => RawBinary((int)BinaryOp.Add, a, b)),
        new("mul_scalar", (a, _) => a * 2.0, (a, _) => RawScalarMul(a, 2.0)),
        new("relu", (a, _) => a.Relu(), (a, _) => RawRelu(a)),
    ];

    /// <summary>Microseconds per op (median) in each column.</summary>
    public sealed record Result(string Op, double CppUs, double CabiUs, double PInvokeUs, double DisposeUs, double ScopeUs,
        double DisposeInScopeUs);

    public static Result Measure(Op op, Tensor a, Tensor b, BenchSettings s, NativeReference reference)
    {
        var ha = a.Handle;
        var hb = b.Handle;
        ITimedSide[] sides =
        [
            reference.Side("cpp", op.Name),
            reference.Side("cabi", op.Name),
            new LocalSide(n =>
            {
                for (var i = 0; i < n; i++) Free(op.Raw(ha, hb));
            }),
            new LocalSide(n =>
            {
                for (var i = 0; i < n; i++)
                {
                    using var r = op.Managed(a, b);
                }
            }),
            new LocalSide(n =>
            {
                for (var i = 0; i < n;)
                {
                    using var scope = DisposeScope.Begin();
                    for (var j = 0; j < ScopeBlock && i < n; j++, i++) op.Managed(a, b);
                }
            }),
            new LocalSide(n =>
            {
                using var scope = DisposeScope.Begin();
                for (var i = 0; i < n; i++)
                {
                    using var r = op.Managed(a, b);
                }
            }),
        ];
        var us = Harness.MedianSecondsPerIteration(sides, s.SmallIters, s.SmallReps, Clock.ThreadCpu).Select(x => x * 1e6).ToArray();
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return new Result(op.Name, us[0], us[1], us[2], us[3], us[4], us[5]);
    }

    private static unsafe IntPtr RawBinary(int code, IntPtr a, IntPtr b)
    {
        IntPtr r;
        TorchException.Check(NativeMethods.moe_binary(code, a, b, &r));
        return r;
    }

    private static unsafe IntPtr RawScalarMul(IntPtr a, double value)
    {
        IntPtr r;
        TorchException.Check(NativeMethods.moe_scalar((int)ScalarOp.Mul, a, value, 0, &r));
        return r;
    }

    private static unsafe IntPtr RawRelu(IntPtr a)
    {
        IntPtr r;
        TorchException.Check(NativeMethods.moe_unary((int)UnaryOp.Relu, a, &r));
        return r;
    }

    private static void Free(IntPtr r) => TorchException.Check(NativeMethods.moe_tensor_free(r));
}
