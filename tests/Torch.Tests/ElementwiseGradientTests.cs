using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Element-wise operations: the gradient against finite differences, and the forward value against
// the same function computed in C# (a gradient check alone would pass an op bound to the wrong
// libtorch function, e.g. exact GELU where the tanh approximation was asked for).
public class ElementwiseGradientTests
{
    private const ulong Seed = 11;

    private static readonly Dictionary<string, (Func<Tensor, Tensor> Op, Func<double, double> Reference, Domain Domain)> UnaryOps = new()
    {
        ["neg"] = (x => x.Neg(), x => -x, Domain.Any),
        ["unary minus"] = (x => -x, x => -x, Domain.Any),
        ["exp"] = (x => x.Exp(), Math.Exp, Domain.Any),
        ["log"] = (x => x.Log(), Math.Log, Domain.Positive),
        ["log1p"] = (x => x.Log1p(), x => Math.Log(1 + x), Domain.Positive),
        ["sqrt"] = (x => x.Sqrt(), Math.Sqrt, Domain.Positive),
        ["rsqrt"] = (x => x.Rsqrt(), x => 1 / Math.Sqrt(x), Domain.Positive),
        ["reciprocal"] = (x => x.Reciprocal(), x => 1 / x, Domain.AwayFromZero),
        ["abs"] = (x => x.Abs(), Math.Abs, Domain.AwayFromZero),
        ["square"] = (x => x.Square(), x => x * x, Domain.Any),
        ["sin"] = (x => x.Sin(), Math.Sin, Domain.Any),
        ["cos"] = (x => x.Cos(), Math.Cos, Domain.Any),
        ["tanh"] = (x => x.Tanh(), Math.Tanh, Domain.Any),
        ["sigmoid"] = (x => x.Sigmoid(), Sigmoid, Domain.Any),
        ["relu"] = (x => x.Relu(), x => Math.Max(x, 0), Domain.AwayFromZero),
        ["gelu exact"] = (x => x.Gelu(), GeluExact, Domain.Any),
        ["gelu exact (Functional)"] = (x => Functional.Gelu(x), GeluExact, Domain.Any),
        ["gelu tanh"] = (x => x.GeluTanh(), GeluTanh, Domain.Any),
        ["silu"] = (x => x.Silu(), x => x * Sigmoid(x), Domain.Any),
        ["silu (Functional)"] = (x => Functional.Silu(x), x => x * Sigmoid(x), Domain.Any),
        ["pow 3"] = (x => x.Pow(3.0), x => x * x * x, Domain.Any),
        ["pow 0.5"] = (x => x.Pow(0.5), Math.Sqrt, Domain.Positive),
        ["pow -1.5"] = (x => x.Pow(-1.5), x => Math.Pow(x, -1.5), Domain.Positive),
        ["clamp min and max"] = (x => x.Clamp(-0.5, 0.7), x => Math.Clamp(x, -0.5, 0.7), Domain.Any),
        ["clamp min"] = (x => x.Clamp(min: -0.3), x => Math.Max(x, -0.3), Domain.Any),
        ["clamp max"] = (x => x.Clamp(max: 0.4), x => Math.Min(x, 0.4), Domain.Any),
        ["tensor + double"] = (x => x + 1.5, x => x + 1.5, Domain.Any),
        ["double + tensor"] = (x => 1.5 + x, x => 1.5 + x, Domain.Any),
        ["tensor - double"] = (x => x - 1.5, x => x - 1.5, Domain.Any),
        ["double - tensor"] = (x => 1.5 - x, x => 1.5 - x, Domain.Any),
        ["tensor * double"] = (x => x * 2.5, x => x * 2.5, Domain.Any),
        ["double * tensor"] = (x => 2.5 * x, x => 2.5 * x, Domain.Any),
        ["tensor / double"] = (x => x / 2.5, x => x / 2.5, Domain.Any),
        ["double / tensor"] = (x => 2.5 / x, x => 2.5 / x, Domain.AwayFromZero),
        ["tensor + long"] = (x => x + 2L, x => x + 2, Domain.Any),
        ["long + tensor"] = (x => 2L + x, x => 2 + x, Domain.Any),
        ["tensor - long"] = (x => x - 2L, x => x - 2, Domain.Any),
        ["long - tensor"] = (x => 2L - x, x => 2 - x, Domain.Any),
        ["tensor * long"] = (x => x * 3L, x => x * 3, Domain.Any),
        ["long * tensor"] = (x => 3L * x, x => 3 * x, Domain.Any),
        ["clone"] = (x => x.Clone(), x => x, Domain.Any),
    };

    private static readonly Dictionary<string, (Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Reference, Domain A, Domain B)> BinaryOps = new()
    {
        ["a + b"] = ((a, b) => a + b, (a, b) => a + b, Domain.Any, Domain.Any),
        ["a - b"] = ((a, b) => a - b, (a, b) => a - b, Domain.Any, Domain.Any),
        ["a * b"] = ((a, b) => a * b, (a, b) => a * b, Domain.Any, Domain.Any),
        ["a / b"] = ((a, b) => a / b, (a, b) => a / b, Domain.Any, Domain.AwayFromZero),
        ["Add"] = ((a, b) => a.Add(b), (a, b) => a + b, Domain.Any, Domain.Any),
        ["Sub"] = ((a, b) => a.Sub(b), (a, b) => a - b, Domain.Any, Domain.Any),
        ["Mul"] = ((a, b) => a.Mul(b), (a, b) => a * b, Domain.Any, Domain.Any),
        ["Div"] = ((a, b) => a.Div(b), (a, b) => a / b, Domain.Any, Domain.AwayFromZero),
        ["pow tensor exponent"] = ((a, b) => a.Pow(b), Math.Pow, Domain.Positive, Domain.Any),
        ["maximum"] = ((a, b) => a.Maximum(b), Math.Max, Domain.Any, Domain.Any),
        ["minimum"] = ((a, b) => a.Minimum(b), Math.Min, Domain.Any, Domain.Any),
    };

    public static TheoryData<string> UnaryCases => new(UnaryOps.Keys);

    public static TheoryData<string> BinaryCases => new(BinaryOps.Keys);

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryGradientMatchesFiniteDifferences(string name)
    {
        var (op, _, domain) = UnaryOps[name];
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Random(generator, domain, 2, 3, 2);

        GradCheck.Assert(op, x);
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryForwardMatchesReference(string name)
    {
        var (op, reference, domain) = UnaryOps[name];
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Random(generator, domain, 2, 3, 2);

        var y = op(x);

        Assert.Equal(x.Shape, y.Shape);
        Assert.Equal(ScalarType.Float64, y.Dtype);
        AssertClose(x.ToArray<double>().Select(reference).ToArray(), y.ToArray<double>());
    }

    // a (2, 1, 3) and b (4, 3) broadcast to (2, 4, 3): both gradients must be summed over the
    // broadcast dimensions.
    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BroadcastBinaryGradientMatchesFiniteDifferences(string name)
    {
        var (op, _, domainA, domainB) = BinaryOps[name];
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Random(generator, domainA, 2, 1, 3);
        var b = Random(generator, domainB, 4, 3);

        GradCheck.Assert(xs => op(xs[0], xs[1]), [a, b]);
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BroadcastBinaryForwardMatchesReference(string name)
    {
        var (op, reference, domainA, domainB) = BinaryOps[name];
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Random(generator, domainA, 2, 1, 3);
        var b = Random(generator, domainB, 4, 3);

        var y = op(a, b); // (2, 4, 3)

        var (av, bv) = (a.ToArray<double>(), b.ToArray<double>());
        var expected = new double[2 * 4 * 3];
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 4; j++)
        for (var k = 0; k < 3; k++)
            expected[(i * 4 + j) * 3 + k] = reference(av[i * 3 + k], bv[j * 3 + k]);
        Assert.Equal([2L, 4, 3], y.Shape);
        AssertClose(expected, y.ToArray<double>());
    }

    [Fact]
    public void MaskedFillPassesGradientOnlyWhereTheMaskIsFalse()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 2, 3);
        var mask = Bool([true, false, false, false, true, false], 2, 3);
        var rowMask = Bool([false, true, false], 3); // broadcast over rows

        GradCheck.Assert(t => t.MaskedFill(mask, -7.0), x);
        GradCheck.Assert(t => t.MaskedFill(rowMask, double.NegativeInfinity).Exp(), x);

        var filled = x.MaskedFill(mask, -7.0).ToArray<double>();
        var xv = x.ToArray<double>();
        Assert.Equal([-7.0, xv[1], xv[2], xv[3], -7.0, xv[5]], filled);
    }

    [Fact]
    public void WhereRoutesEachGradientToTheChosenSide()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Randn(generator, 2, 3);
        var b = Randn(generator, 3); // broadcast over rows
        var condition = Bool([true, false, true, false, false, true], 2, 3);

        GradCheck.Assert(xs => Tensor.Where(condition, xs[0], xs[1]), [a, b]);

        var (av, bv) = (a.ToArray<double>(), b.ToArray<double>());
        Assert.Equal([av[0], bv[1], av[2], bv[0], bv[1], av[5]], Tensor.Where(condition, a, b).ToArray<double>());
    }
}
