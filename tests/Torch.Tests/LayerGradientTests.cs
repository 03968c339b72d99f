using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Matrix products, linear layers, dropout, dtype conversion, clone and detach.
public class LayerGradientTests
{
    private const ulong Seed = 53;

    [Theory]
    [InlineData(new long[] { 3, 4 }, new long[] { 4, 2 })]          // matrix x matrix
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4, 2 })]       // batch x matrix (matrix broadcast)
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 1, 4, 2 })]    // batch dims broadcast 2 vs 1
    [InlineData(new long[] { 4 }, new long[] { 4, 2 })]             // vector x matrix
    [InlineData(new long[] { 3, 4 }, new long[] { 4 })]             // matrix x vector
    [InlineData(new long[] { 4 }, new long[] { 4 })]                // dot product
    public void MatMulMatchesFiniteDifferences(long[] shapeA, long[] shapeB)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Randn(generator, shapeA);
        var b = Randn(generator, shapeB);

        GradCheck.Assert(xs => xs[0].MatMul(xs[1]), [a, b]);
    }

    [Fact]
    public void BmmAndMmMatchFiniteDifferencesAndHandValues()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);

        GradCheck.Assert(xs => xs[0].Bmm(xs[1]), [Randn(generator, 2, 3, 4), Randn(generator, 2, 4, 2)]);
        GradCheck.Assert(xs => xs[0].Mm(xs[1]), [Randn(generator, 3, 4), Randn(generator, 4, 2)]);

        // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
        var a = F64([1, 2, 3, 4], 2, 2);
        var b = F64([5, 6, 7, 8], 2, 2);
        Assert.Equal([19.0, 22, 43, 50], a.Mm(b).ToArray<double>());
        Assert.Equal([19.0, 22, 43, 50], a.MatMul(b).ToArray<double>());
        Assert.Equal([19.0, 22, 43, 50], a.Unsqueeze(0).Bmm(b.Unsqueeze(0)).ToArray<double>());
    }

    [Fact]
    public void LinearWithAndWithoutBiasMatchesFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var input = Randn(generator, 2, 3, 4); // (B, T, in)
        var weight = Randn(generator, 5, 4);   // (out, in)
        var bias = Randn(generator, 5);

        GradCheck.Assert(xs => Functional.Linear(xs[0], xs[1], xs[2]), [input, weight, bias]);
        GradCheck.Assert(xs => Functional.Linear(xs[0], xs[1]), [input, weight]);
    }

    [Fact]
    public void LinearComputesInputTimesWeightTransposedPlusBias()
    {
        using var scope = DisposeScope.Begin();
        var input = F64([1, 2], 1, 2);
        var weight = F64([1, 0, 2, 3, -1, 1], 3, 2);

        Assert.Equal([1.0, 8, 1], Functional.Linear(input, weight).ToArray<double>());
        Assert.Equal([1.5, 6, 1], Functional.Linear(input, weight, F64([0.5, -2, 0])).ToArray<double>());
    }

    [Theory]
    [InlineData(0.4)]
    [InlineData(0.75)]
    public void DropoutWithAGeneratorMatchesFiniteDifferences(double p)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 4, 5);
        var state = generator.GetState();

        // Each evaluation restarts the generator from the same state, so every one uses the same mask.
        Tensor DropoutFromState(Tensor t)
        {
            generator.SetState(state);
            return Functional.Dropout(t, p, training: true, generator);
        }

        GradCheck.Assert(DropoutFromState, x);

        // The mask is non-trivial: some elements dropped, the rest scaled by 1 / (1 - p).
        var (xv, yv) = (x.ToArray<double>(), DropoutFromState(x).ToArray<double>());
        var dropped = Enumerable.Range(0, xv.Length).Count(i => yv[i] == 0);
        Assert.InRange(dropped, 1, xv.Length - 1);
        for (var i = 0; i < xv.Length; i++)
        {
            if (yv[i] != 0) Assert.Equal(xv[i] / (1 - p), yv[i], 1e-15);
        }
    }

    [Fact]
    public void DropoutOutsideTrainingIsTheIdentity()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 3, 2);

        GradCheck.Assert(t => Functional.Dropout(t, 0.5, training: false), x);
        GradCheck.Assert(t => Functional.Dropout(t, 0.0, training: true, generator), x);
        Assert.True(Functional.Dropout(x, 0.5, training: false).Equal(x));
    }

    // Inputs are multiples of 1/64 and the step is 2^-12, so x ± step is exact in float32 and the
    // round trip's finite difference is exact: a 1e-6 tolerance still holds.
    [Fact]
    public void Float32RoundTripPassesTheGradientBackAsFloat64()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Tensor.RandInt(-128, 128, [3, 4], generator).To(ScalarType.Float64) / 64.0;
        var exact = new GradCheckOptions { Step = 1.0 / 4096 };

        GradCheck.Assert(t => t.To(ScalarType.Float32).To(ScalarType.Float64), x, exact);
        GradCheck.Assert(t => t.To(ScalarType.Float64, Device.Cpu), x);

        var leaf = x.Clone().RequiresGrad_();
        var single = leaf.To(ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, single.Dtype);
        single.Sum().Backward();
        using var grad = leaf.Grad!;
        Assert.Equal(ScalarType.Float64, grad.Dtype);
    }

    [Fact]
    public void CloneCopiesAndPassesTheGradient()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 2, 3);

        GradCheck.Assert(t => t.Clone(), x);
        GradCheck.Assert(t => t.Contiguous(), x);
    }

    [Fact]
    public void DetachStopsTheGradient()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, -2, 3]).RequiresGrad_();

        var detached = x.Detach();
        Assert.False(detached.RequiresGrad);
        Assert.Throws<Native.TorchException>(() => (detached * 2.0).Sum().Backward());

        // d/dx sum(stop(x) * x) = stop(x): only the attached factor passes a gradient.
        (x.Detach() * x).Sum().Backward();
        Assert.Equal([1.0, -2, 3], x.Grad!.ToArray<double>());

        // The detached tensor shares the data.
        Assert.True(detached.Equal(x));
    }
}
