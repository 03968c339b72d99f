using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// The gradient checker is only worth its passes if it fails on wrong gradients. Each function
// below has a correct forward value and a deliberately wrong backward, built by composing detach.
public class GradCheckSelfTests
{
    [Fact]
    public void PassesOnAFunctionWithKnownDerivative()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(1);
        var x = Randn(generator, 2, 3);

        var report = GradCheck.Compare(xs => [xs[0] * xs[0] * xs[0]], [x]);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(6, report.ElementsChecked);
        Assert.True(report.MaxError < 1e-8, report.ToString());
    }

    [Fact]
    public void FailsWhenHalfOfAProductIsDetached()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(2);
        var x = Randn(generator, 2, 3);

        // Forward x², backward only x · u (the detached factor contributes nothing).
        var report = GradCheck.Compare(xs => [xs[0].Detach() * xs[0]], [x]);

        Assert.False(report.Passed);
        Assert.Equal(6, report.Mismatches.Count);
        foreach (var m in report.Mismatches) Assert.Equal(2 * m.Analytic, m.Numeric, 1e-6);
    }

    [Fact]
    public void FailsOnAStraightThroughGradient()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(3);
        var x = Randn(generator, 4);

        // Forward sin(x), backward as the identity.
        var report = GradCheck.Compare(xs => [xs[0] + (xs[0].Sin() - xs[0]).Detach()], [x]);

        Assert.False(report.Passed);
        Assert.Equal(4, report.Mismatches.Count);
    }

    [Fact]
    public void NamesTheOneElementWhoseGradientIsMissing()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(4);
        var x = Randn(generator, 2, 3);
        var onlyElement12 = Bool([false, false, false, false, false, true], 2, 3);

        // Forward is x everywhere; at [1, 2] the value comes from the detached copy, so its gradient is lost.
        var report = GradCheck.Compare(xs => [Tensor.Where(onlyElement12, xs[0].Detach(), xs[0])], [x]);

        var mismatch = Assert.Single(report.Mismatches);
        Assert.Equal([1L, 2L], mismatch.Index);
        Assert.Equal(0.0, mismatch.Analytic);
        Assert.NotEqual(0.0, mismatch.Numeric);
    }

    [Fact]
    public void FailsWhenTheSecondInputGetsAWrongGradient()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(5);
        var a = Randn(generator, 3);
        var b = Randn(generator, 3);

        // a·b with the gradient to b scaled by 1.5 (forward unchanged: the extra term is zero).
        var report = GradCheck.Compare(xs => [xs[0] * xs[1] + (xs[0].Detach() * xs[1] - (xs[0] * xs[1]).Detach()) * 0.5], [a, b]);

        Assert.False(report.Passed);
        Assert.All(report.Mismatches, m => Assert.Equal(1, m.Input));
        Assert.Equal(3, report.Mismatches.Count);
    }

    [Fact]
    public void RefusesAVacuousCheckOfAnInputThatDoesNotMatter()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(6);
        var a = Randn(generator, 3);
        var ignored = Randn(generator, 3);

        var report = GradCheck.Compare(xs => [xs[0].Exp()], [a, ignored]);

        Assert.Empty(report.Mismatches);
        Assert.Equal([1], report.InputsWithoutEffect);
        Assert.False(report.Passed);
    }

    [Fact]
    public void RefusesFloat32Inputs()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.FromArray(new float[] { 1, 2 });

        var error = Assert.Throws<ArgumentException>(() => GradCheck.Compare(xs => [xs[0]], [x]));
        Assert.Contains("Float64", error.Message);
    }
}
