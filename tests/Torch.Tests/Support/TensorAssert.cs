namespace Orleans.MoE.Torch.Tests.Support;

internal static class TensorAssert
{
    /// <summary>
    /// Same shape, and every element within relativeTolerance * max(1, |expected|) of the expected one
    /// (compared in double, whatever the dtype).
    /// </summary>
    public static void Close(Tensor expected, Tensor actual, double relativeTolerance, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        using var e64 = expected.To(ScalarType.Float64);
        using var a64 = actual.To(ScalarType.Float64);
        var e = e64.ToArray<double>();
        var a = a64.ToArray<double>();
        for (var i = 0; i < e.Length; i++)
        {
            var bound = relativeTolerance * Math.Max(1.0, Math.Abs(e[i]));
            Assert.True(Math.Abs(a[i] - e[i]) <= bound,
                $"{what}[{i}]: expected {e[i]:R}, got {a[i]:R} (difference {Math.Abs(a[i] - e[i]):E3} > {bound:E3})");
        }
    }
}
