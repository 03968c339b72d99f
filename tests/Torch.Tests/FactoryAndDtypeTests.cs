using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Factories, random ranges, and the dtype rules of scalar arithmetic: an integral scalar keeps an
// integral tensor integral (as a Python int does), a fractional one promotes to the default float.
public class FactoryAndDtypeTests
{
    [Fact]
    public void FullZerosOnes()
    {
        using var scope = DisposeScope.Begin();

        var full = Tensor.Full([2, 3], 2.5);
        Assert.Equal(ScalarType.Float32, full.Dtype);
        Assert.Equal([2L, 3L], full.Shape);
        Assert.All(full.ToArray<float>(), v => Assert.Equal(2.5f, v));
        Assert.Equal([7L, 7L], Tensor.Full([2], 7, ScalarType.Int64).ToArray<long>());
        Assert.Equal([0.0, 0, 0], Tensor.Zeros([3], ScalarType.Float64).ToArray<double>());
        Assert.Equal([1L, 1, 1, 1], Tensor.Ones([2, 2], ScalarType.Int64).ToArray<long>());
        Assert.Equal([true, true], Tensor.Ones([2], ScalarType.Bool).ToArray<bool>());
        Assert.Equal(42.0, Tensor.Full([], 42, ScalarType.Float64).Item());
        var scalar = Tensor.Scalar(3.25);
        Assert.Empty(scalar.Shape);
        Assert.Equal(ScalarType.Float64, scalar.Dtype);
        Assert.Equal(3.25, scalar.Item());
        Assert.Equal(-7L, Tensor.Scalar(-7L).ItemInt64());
        Assert.Equal([0.0, 0], F64([3, 4]).ZerosLike().ToArray<double>());
        Assert.Equal([1L, 1], I64([3, 4]).OnesLike().ToArray<long>());
    }

    [Fact]
    public void Arange()
    {
        using var scope = DisposeScope.Begin();

        var ints = Tensor.Arange(5);
        Assert.Equal(ScalarType.Int64, ints.Dtype);
        Assert.Equal([0L, 1, 2, 3, 4], ints.ToArray<long>());
        Assert.Equal([2L, 5, 8], Tensor.Arange(2, 10, 3).ToArray<long>());
        Assert.Equal([0.5, 1.0, 1.5], Tensor.Arange(0.5, 2.0, 0.5, ScalarType.Float64).ToArray<double>());
        Assert.Equal([3L, 2, 1], Tensor.Arange(3, 0, -1).ToArray<long>());
        Assert.Equal(0, Tensor.Arange(0).NumElements);
    }

    [Fact]
    public void RandPermIsAPermutation()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(3);

        var perm = Tensor.RandPerm(50, generator);

        Assert.Equal(ScalarType.Int64, perm.Dtype);
        var values = perm.ToArray<long>();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), values.Order());
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), values); // 1 in 50! to be the identity
    }

    [Fact]
    public void RandIntStaysInItsHalfOpenRangeAndCoversIt()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(4);

        var x = Tensor.RandInt(-3, 4, [2000], generator);

        Assert.Equal(ScalarType.Int64, x.Dtype);
        var values = x.ToArray<long>();
        Assert.All(values, v => Assert.InRange(v, -3, 3));
        Assert.Equal(7, values.Distinct().Count());
        Assert.Equal(ScalarType.Int32, Tensor.RandInt(0, 2, [3], generator, ScalarType.Int32).Dtype);
    }

    [Fact]
    public void RandAndRandnHaveTheirDistributions()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(5);

        var u = Tensor.Rand([4000], generator, ScalarType.Float64).ToArray<double>();
        Assert.All(u, v => Assert.InRange(v, 0.0, 0.9999999999));
        Assert.InRange(u.Average(), 0.48, 0.52);

        var n = Tensor.Randn([4000], generator, ScalarType.Float64).ToArray<double>();
        var mean = n.Average();
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(Math.Sqrt(n.Select(v => (v - mean) * (v - mean)).Average()), 0.95, 1.05);
    }

    [Fact]
    public void RemainderAndFloorDivideRoundTowardMinusInfinityAndStayInt64()
    {
        using var scope = DisposeScope.Begin();
        var x = I64([-7, 7, 6, -1]);

        var remainder = x.Remainder(3);
        Assert.Equal(ScalarType.Int64, remainder.Dtype);
        Assert.Equal([2L, 1, 0, 2], remainder.ToArray<long>()); // sign of the divisor, as Python's %

        var quotient = x.FloorDivide(2);
        Assert.Equal(ScalarType.Int64, quotient.Dtype);
        Assert.Equal([-4L, 3, 3, -1], quotient.ToArray<long>()); // floor, as Python's //

        var divisors = I64([2, -2, 4, 3]);
        Assert.Equal([1L, -1, 2, 2], x.Remainder(divisors).ToArray<long>());
        Assert.Equal([-4L, -4, 1, -1], x.FloorDivide(divisors).ToArray<long>());
        Assert.Equal([1.5, 0.5], F64([-2.5, 4.5]).Remainder(F64([2, 2])).ToArray<double>());
    }

    [Fact]
    public void IntegralScalarsKeepInt64()
    {
        using var scope = DisposeScope.Begin();
        var x = I64([1, 2, 3]);

        AssertInt64([2, 4, 6], x * 2L);
        AssertInt64([2, 4, 6], 2L * x);
        AssertInt64([6, 7, 8], x + 5L);
        AssertInt64([6, 7, 8], 5L + x);
        AssertInt64([-1, 0, 1], x - 2L);
        AssertInt64([9, 8, 7], 10L - x);
        AssertInt64([1, 2, 3], (x * 3L).FloorDivide(3));
        AssertInt64([2, 4, 6], x + x);
        AssertInt64([-1, -2, -3], -x);

        // Integral scalars leave float tensors at their own precision.
        Assert.Equal(ScalarType.Float32, (Tensor.Ones([2]) * 2L).Dtype);
        Assert.Equal(ScalarType.Float64, (F64([1, 2]) + 3L).Dtype);
    }

    [Fact]
    public void FractionalScalarsPromoteIntegralTensorsToTheDefaultFloat()
    {
        using var scope = DisposeScope.Begin();
        var x = I64([1, 2, 3]);

        AssertFloat32([2.5f, 5, 7.5f], x * 2.5);
        AssertFloat32([2.5f, 5, 7.5f], 2.5 * x);
        AssertFloat32([1.5f, 2.5f, 3.5f], x + 0.5);
        AssertFloat32([0.5f, 1, 1.5f], x / 2.0);
        AssertFloat32([-0.5f, 0.5f, 1.5f], x - 1.5);
        AssertFloat32([0.5f, -0.5f, -1.5f], 1.5 - x);
        AssertFloat32([6, 3, 2], 6.0 / x);
        Assert.Equal(ScalarType.Float32, (x * 2.0).Dtype); // a whole double is still a double
        Assert.Equal(ScalarType.Float32, x.Div(I64([2, 2, 2])).Dtype); // true division
    }

    // An integral scalar crosses into native code as an int64, so a value past 2^53 is not rounded.
    [Fact]
    public void LargeIntegralScalarsAreExact()
    {
        using var scope = DisposeScope.Begin();
        const long big = (1L << 53) + 1;
        var zero = I64([0]);

        Assert.Equal(big, (zero + big).ItemInt64());
        Assert.Equal(big - 1, (big - (zero + 1L)).ItemInt64());
        Assert.Equal(big, ((zero + 1L) * big).ItemInt64());
        Assert.Equal(big, (I64([big]) * 1L).ItemInt64());
        Assert.Equal([0L, 1L], I64([big - 1, big]).Remainder(2).ToArray<long>());
    }

    [Fact]
    public void AFillValueOutsideInt64IsRefused()
    {
        using var scope = DisposeScope.Begin();

        var error = Assert.Throws<Native.TorchException>(() => Tensor.Full([1], 1e19, ScalarType.Int64));
        Assert.Contains("does not fit an int64", error.Message);
        Assert.Throws<Native.TorchException>(() => Tensor.Full([1], double.NaN, ScalarType.Int64));
    }

    private static void AssertInt64(long[] expected, Tensor actual)
    {
        Assert.Equal(ScalarType.Int64, actual.Dtype);
        Assert.Equal(expected, actual.ToArray<long>());
    }

    private static void AssertFloat32(float[] expected, Tensor actual)
    {
        Assert.Equal(ScalarType.Float32, actual.Dtype);
        Assert.Equal(expected, actual.ToArray<float>());
    }
}
