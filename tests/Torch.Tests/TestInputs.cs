namespace Orleans.MoE.Torch.Tests;

/// <summary>Where a gradient-check input is drawn from, so that it stays in the function's smooth region.</summary>
internal enum Domain
{
    /// <summary>Standard normal.</summary>
    Any,

    /// <summary>Uniform in [0.5, 1.5): for log, sqrt, rsqrt, fractional powers.</summary>
    Positive,

    /// <summary>Standard normal pushed 0.2 away from zero: for the kinks of relu and abs, and poles at 0.</summary>
    AwayFromZero,
}

/// <summary>Small tensors for tests: literal values and seeded random Float64 inputs.</summary>
internal static class TestInputs
{
    public static Tensor F64(double[] values, params long[] shape) => Tensor.FromArray(values, shape);

    public static Tensor I64(long[] values, params long[] shape) => Tensor.FromArray(values, shape);

    public static Tensor Bool(bool[] values, params long[] shape) => Tensor.FromArray(values, shape);

    public static Tensor Random(Generator generator, Domain domain, params long[] shape)
    {
        switch (domain)
        {
            case Domain.Positive:
                using (var u = Tensor.Rand(shape, generator, ScalarType.Float64)) return u + 0.5;
            case Domain.AwayFromZero:
                using (var n = Tensor.Randn(shape, generator, ScalarType.Float64))
                using (var sign = n.Sign())
                using (var push = sign * 0.2)
                    return n + push;
            default:
                return Tensor.Randn(shape, generator, ScalarType.Float64);
        }
    }

    public static Tensor Randn(Generator generator, params long[] shape) => Random(generator, Domain.Any, shape);

    /// <summary>Error function (Abramowitz-Stegun 7.1.5 Maclaurin series), accurate to ~1e-14 for |x| ≤ 3.</summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) > 3) throw new ArgumentOutOfRangeException(nameof(x), x, "the series is used for |x| <= 3 only");
        double sum = 0, term = x;
        for (var n = 0; n < 80; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public static double GeluExact(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    public static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>Asserts element-wise closeness: |actual − expected| ≤ tolerance · (1 + |expected|).</summary>
    public static void AssertClose(double[] expected, double[] actual, double tolerance = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance})");
        }
    }
}
