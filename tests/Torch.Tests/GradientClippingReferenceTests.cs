using System.Globalization;
using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>Global-norm gradient clipping against torch.nn.utils.clip_grad_norm_ (clip_grad_norm_reference.safetensors).</summary>
public class GradientClippingReferenceTests
{
    [Theory]
    [InlineData("clipped")]
    [InlineData("unclipped")]
    public void TheNormAndTheClippedGradientsMatchTorch(string variant)
    {
        using var scope = DisposeScope.Begin();
        using var fixture = LoadedTensors.Load(FixtureFiles.PathOf("clip_grad_norm_reference.safetensors"));
        var count = int.Parse(fixture.Metadata["parameters"], CultureInfo.InvariantCulture);
        var maxNorm = fixture[$"{variant}.max_norm"].Item();
        var parameters = new List<Parameter>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var original = fixture[$"{variant}.grad{i}"];
                var p = new Parameter(original.ZerosLike());
                p.Grad = original.Clone(); // clipping scales the gradient in place: keep the fixture's copy intact
                parameters.Add(p);
            }

            var total = GradientClipping.ClipGradNorm(parameters, maxNorm);

            // The norm is reduced in float32 (as torch does), so compare to float32 precision.
            var expectedTotal = fixture[$"{variant}.total_norm"].Item();
            Assert.Equal(expectedTotal, total, 1e-6 * expectedTotal);
            Assert.Equal(variant == "clipped", expectedTotal > maxNorm); // the fixture exercises what it claims
            for (var i = 0; i < count; i++)
            {
                using var grad = parameters[i].Grad!;
                TensorAssert.Close(fixture[$"{variant}.clipped{i}"], grad, 1e-6, $"{variant} gradient {i}");
                if (variant == "unclipped")
                    Assert.True(grad.Equal(fixture[$"{variant}.grad{i}"]), "a gradient under the limit must be left exactly as it was");
            }
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }

    [Fact]
    public void ClippingScalesEveryGradientToTheLimitByHand()
    {
        // Two gradients (3, 4) and (12): total norm sqrt(9 + 16 + 144) = 13.
        using var scope = DisposeScope.Begin();
        using var a = new Parameter(Tensor.Zeros([2]));
        using var b = new Parameter(Tensor.Zeros([1]));
        a.Grad = Tensor.FromArray(new[] { 3.0f, 4.0f });
        b.Grad = Tensor.FromArray(new[] { 12.0f });

        var total = GradientClipping.ClipGradNorm([a, b], 6.5);

        Assert.Equal(13.0, total, 1e-6);
        var scale = 6.5 / (13.0 + 1e-6);
        Assert.Equal([3 * scale, 4 * scale], a.Grad!.ToArray<float>().Select(x => (double)x), new ToleranceComparer(1e-6));
        Assert.Equal(12 * scale, b.Grad!.Item(), 1e-5);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
