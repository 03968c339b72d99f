using Orleans.MoE.Torch.Native;
using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// In-place operations on tensors inside the graph (not leaves) are recorded by autograd, including
// writes through a view into part of a tensor.
public class InPlaceGradientTests
{
    private const ulong Seed = 71;

    [Fact]
    public void MulAndAddInPlaceMatchFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Randn(generator, 2, 3);
        var b = Randn(generator, 3); // broadcast over rows

        GradCheck.Assert(t => t.Clone().Mul_(-2.5), a);
        GradCheck.Assert(xs => (xs[0] * xs[0]).Add_(xs[1], alpha: 0.5), [a, b]);
    }

    [Fact]
    public void WritesThroughAViewMatchFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Randn(generator, 3, 4);
        var b = Randn(generator, 4);

        // Row 1 replaced by b: a's gradient is zero there, b gets row 1's upstream gradient.
        GradCheck.Assert(xs =>
        {
            var y = xs[0] * xs[0];    // (3, 4); mul saves its inputs, so its output may be written
            y.Select(0, 1).Copy_(xs[1]);
            return y;
        }, [a, b]);

        // Column 2 filled or zeroed: no gradient reaches a there.
        GradCheck.Assert(t =>
        {
            var y = t.Sin();
            y.Narrow(1, 2, 1).Fill_(4.0);
            y.Narrow(1, 0, 1).Zero_();
            return y;
        }, a);
    }

    [Fact]
    public void InPlaceValues()
    {
        using var scope = DisposeScope.Begin();
        var y = F64([1, 2, 3, 4], 2, 2);

        y.Select(1, 0).Fill_(9);                // column 0
        y.Add_(F64([1, 1]), alpha: 10);
        y.Mul_(0.5);

        Assert.Equal([9.5, 6, 9.5, 7], y.ToArray<double>());
        Assert.Equal([0.0, 0, 0, 0], y.Zero_().ToArray<double>());
    }

    [Fact]
    public void InPlaceOnALeafThatRequiresGradIsRefusedOutsideNoGrad()
    {
        using var scope = DisposeScope.Begin();
        var leaf = F64([1, 2]).RequiresGrad_();

        var error = Assert.Throws<TorchException>(() => leaf.Mul_(2));
        Assert.Contains("leaf", error.Message);

        using (GradMode.NoGrad()) leaf.Mul_(2);
        Assert.Equal([2.0, 4], leaf.ToArray<double>());
        Assert.True(leaf.RequiresGrad);
    }
}
