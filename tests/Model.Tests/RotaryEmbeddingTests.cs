using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

public class RotaryEmbeddingTests
{
    [Fact]
    public void PairIAtPositionTIsRotatedByTTimesBaseToTheMinus2IOverHeadDim()
    {
        using var scope = DisposeScope.Begin();
        using var rotary = new RotaryEmbedding(headDim: 4, maxSeqLen: 8, ropeBase: 100, ScalarType.Float64, Device.Cpu);
        var x = Tensor.Randn([2, 5, 3, 4], new Generator(1), ScalarType.Float64);   // (B, T, H, Dh)
        var actual = rotary.Forward(x).ToArray<double>();
        var input = x.ToArray<double>();
        for (var i = 0; i < input.Length; i += 2)
        {
            var t = i / (3 * 4) % 5;
            var pair = i % 4 / 2;
            var angle = t * Math.Pow(100, -2.0 * pair / 4);
            var (x0, x1) = (input[i], input[i + 1]);
            Assert.Equal(x0 * Math.Cos(angle) - x1 * Math.Sin(angle), actual[i], 12);
            Assert.Equal(x1 * Math.Cos(angle) + x0 * Math.Sin(angle), actual[i + 1], 12);
        }
    }

    [Fact]
    public void PositionsOnAnotherDimensionOfAStridedViewGiveTheSameRotation()
    {
        using var scope = DisposeScope.Begin();
        using var rotary = new RotaryEmbedding(headDim: 8, maxSeqLen: 16, ropeBase: 10000, ScalarType.Float32, Device.Cpu);
        var qk = Tensor.Randn([2, 6, 2, 3, 8], new Generator(2));     // (B, T, 2, H, Dh), the layout of the qkv projection
        var expected = rotary.Forward(qk).Permute(2, 0, 3, 1, 4);     // rotated, then viewed (2, B, H, T, Dh)
        var actual = rotary.Forward(qk.Permute(2, 0, 3, 1, 4), positionDim: 3);   // (2, B, H, T, Dh)
        Assert.Equal(new long[] { 2, 2, 3, 6, 8 }, actual.Shape);
        Assert.True(actual.Equal(expected), "rotating the head-major view must give exactly the same values");
    }
}
