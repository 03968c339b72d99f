using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

internal static class Numerics
{
    /// <summary>
    /// Asserts that every element differs from the reference by at most <paramref name="relative"/> times
    /// the reference's largest magnitude (the scale that matters for a gradient or an activation).
    /// </summary>
    /// <param name="scale">the magnitude errors are measured against, when it is not the reference's own: for a sum
    /// with cancellation, the sum of the magnitudes of its terms</param>
    public static void AssertClose(Tensor expected, Tensor actual, string what, double relative = 1e-5, double? scale = null)
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape),
            $"{what}: shape [{string.Join(", ", actual.Shape)}], expected [{string.Join(", ", expected.Shape)}]");
        using var scope = DisposeScope.Begin();
        var e = expected.To(ScalarType.Float64).ToArray<double>();
        var a = actual.Detach().To(ScalarType.Float64).ToArray<double>();
        double largest = 0, worst = 0;
        var at = 0;
        for (var i = 0; i < e.Length; i++)
        {
            largest = Math.Max(largest, Math.Abs(e[i]));
            var diff = Math.Abs(e[i] - a[i]);
            if (!(diff <= worst) || (i == 0 && double.IsNaN(diff))) { worst = diff; at = i; }
        }
        var reference = scale ?? largest;
        Assert.True(reference > 0, $"{what}: the reference is all zeros, so the comparison would prove nothing");
        if (!(worst <= relative * reference))
            Assert.Fail($"{what}: element {at} is {a[at]:R}, expected {e[at]:R} (difference {worst:E3}, allowed {relative * reference:E3})");
    }
}
