namespace Orleans.MoE.Torch.Tests;

/// <summary>bf16 autocast on the CPU (libtorch 1.13 has CPU autocast): what runs in bfloat16, what stays float32.</summary>
public class AutocastTests
{
    [Fact]
    public void MatrixProductsRunInBFloat16InsideTheScopeAndFloat32After()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(1);
        var x = Tensor.Randn([4, 8], generator);   // (B, d_in)
        var w = Tensor.Randn([3, 8], generator);   // (d_out, d_in)
        var exact = Functional.Linear(x, w);       // (B, d_out) float32

        Tensor mixed;
        using (Autocast.Enable(Device.Cpu))
        {
            mixed = Functional.Linear(x, w);
            Assert.Equal(ScalarType.Float32, (x + x).Dtype);   // elementwise operations are not cast
        }
        Assert.Equal(ScalarType.BFloat16, mixed.Dtype);
        Assert.Equal(ScalarType.Float32, Functional.Linear(x, w).Dtype);

        // bfloat16 keeps 8 mantissa bits: relative error up to ~2^-8 per input, and the product is not exact.
        var difference = (mixed.To(ScalarType.Float32) - exact).Abs().Max().Item();
        var scale = exact.Abs().Max().Item();
        Assert.InRange(difference, 1e-6, 0.05 * scale);
    }

    [Fact]
    public void EachScopeCastsTheWeightsAsTheyAreNowNotAsAnEarlierScopeCachedThem()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Ones([1, 2]);
        var w = Tensor.FromArray(new[] { 1f, 2f }, 1, 2).RequiresGrad_();   // a leaf that requires grad: autocast caches its cast
        Tensor first, second;
        using (Autocast.Enable(Device.Cpu)) first = Functional.Linear(x, w);
        using (GradMode.NoGrad()) w.Mul_(4);   // an optimizer step between two forward passes
        using (Autocast.Enable(Device.Cpu)) second = Functional.Linear(x, w);
        Assert.Equal(3.0, first.Item());
        Assert.Equal(12.0, second.Item());
    }

    [Fact]
    public void OnlyLowerPrecisionTypesAreAccepted()
    {
        var e = Assert.Throws<Native.TorchException>(() => Autocast.Enable(Device.Cpu, ScalarType.Float64));
        Assert.Contains("autocast needs bfloat16 or float16", e.Message);
    }
}
