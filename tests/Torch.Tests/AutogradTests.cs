using Orleans.MoE.Torch.Native;
using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Backward, gradient accumulation and clearing, leaves that do not require grad, retained graphs.
public class AutogradTests
{
    [Fact]
    public void BackwardFromAScalarNeedsNoGradient()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2, 3]).RequiresGrad_();

        (x * x).Sum().Backward(); // d/dx Σ x² = 2x

        Assert.Equal([2.0, 4, 6], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void BackwardFromATensorTakesTheUpstreamGradient()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2, 3]).RequiresGrad_();

        (x * x).Backward(F64([1, 0.5, -1])); // 2x · u

        Assert.Equal([2.0, 2, -6], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void BackwardFromANonScalarWithoutGradientIsAnError()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2, 3]).RequiresGrad_();

        var error = Assert.Throws<TorchException>(() => (x * 2.0).Backward());
        Assert.Contains("scalar", error.Message);
    }

    [Fact]
    public void GradientsAccumulateOverBackwardCalls()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2, 3]).RequiresGrad_();

        (x * 3.0).Sum().Backward();
        var first = x.Grad!.ToArray<double>();
        (x * x).Sum().Backward();

        Assert.Equal([3.0, 3, 3], first);
        Assert.Equal([5.0, 7, 9], x.Grad!.ToArray<double>()); // 3 + 2x
    }

    [Fact]
    public void ZeroGradClearsSoTheNextBackwardStartsFresh()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        (x * 3.0).Sum().Backward();

        x.ZeroGrad();
        Assert.Null(x.Grad);

        (x * x).Sum().Backward();
        Assert.Equal([2.0, 4], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void ALeafThatDoesNotRequireGradGetsNone()
    {
        using var scope = DisposeScope.Begin();
        var trained = F64([1, 2]).RequiresGrad_();
        var frozen = F64([5, 7]);
        Assert.False(frozen.RequiresGrad);

        var product = trained * frozen;
        Assert.True(product.RequiresGrad);
        product.Sum().Backward();

        Assert.Equal([5.0, 7], trained.Grad!.ToArray<double>());
        Assert.Null(frozen.Grad);

        var switchedOff = F64([1, 2]).RequiresGrad_().RequiresGrad_(false);
        Assert.False(switchedOff.RequiresGrad);
        Assert.False((switchedOff * 2.0).RequiresGrad);
    }

    [Fact]
    public void RetainGraphAllowsASecondBackward()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        var y = (x.Exp() * x).Sum(); // exp saves its result for backward

        y.Backward(retainGraph: true);
        y.Backward();

        // d/dx x eˣ = (1 + x) eˣ, twice.
        AssertClose([2 * 2 * Math.E, 2 * 3 * Math.Exp(2)], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void WithoutRetainGraphASecondBackwardIsAnError()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        var y = (x.Exp() * x).Sum();

        y.Backward();

        var error = Assert.Throws<TorchException>(() => y.Backward());
        Assert.Contains("second time", error.Message);
    }

    [Fact]
    public void GradientsReachOnlyLeavesAndFlowThroughSharedHandles()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        var hidden = x * 2.0;
        using var alias = x.Share();

        (hidden * alias).Sum().Backward(); // Σ 2x²: 4x

        Assert.Equal([4.0, 8], x.Grad!.ToArray<double>());
        Assert.Equal([4.0, 8], alias.Grad!.ToArray<double>()); // same autograd identity
        Assert.Null(hidden.Grad);                               // not a leaf
    }

    [Fact]
    public void SettingAGradientReplacesIt()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();

        x.Grad = F64([0.5, 0.25]);
        (x * 2.0).Sum().Backward();

        Assert.Equal([2.5, 2.25], x.Grad!.ToArray<double>()); // accumulated onto the set gradient
    }

    [Fact]
    public void AGradientThatDoesNotFitItsTensorIsRefused()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();

        var wrongShape = Assert.Throws<TorchException>(() => x.Grad = F64([1, 2, 3]));
        Assert.Contains("shape [3]", wrongShape.Message);
        Assert.Contains("shape [2]", wrongShape.Message);
        Assert.Throws<TorchException>(() => x.Grad = Tensor.Ones([2])); // Float32 onto Float64
        Assert.Null(x.Grad);
    }
}
