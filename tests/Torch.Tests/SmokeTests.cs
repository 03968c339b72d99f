namespace Orleans.MoE.Torch.Tests;

public class SmokeTests
{
    [Fact]
    public void AddsAndReadsBack()
    {
        using var scope = DisposeScope.Begin();
        var a = Tensor.FromArray(new float[] { 1, 2, 3 });
        var b = (a * 2.0 + a).Sum();
        Assert.Equal(18.0, b.Item());
        Assert.Equal("1.13.0", TorchRuntime.Version);
    }
}
