using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Cross entropy of logits (N, C) against targets (N), with ignored positions actually present and
// with label smoothing: the gradient against finite differences, the value against the definition
//   loss_n = −(1 − ε) log p_n[t_n] − (ε / C) Σ_c log p_n[c]   (0 where t_n is ignored)
// with mean = Σ_n loss_n / (number of targets not ignored).
public class CrossEntropyTests
{
    private const ulong Seed = 67;
    private const int Classes = 4;

    public static TheoryData<long, long[], Reduction, double> Cases => new()
    {
        { -100, [1, -100, 3, 0, -100], Reduction.Mean, 0.0 },
        { -100, [1, -100, 3, 0, -100], Reduction.Sum, 0.0 },
        { -100, [1, -100, 3, 0, -100], Reduction.None, 0.0 },
        { -100, [1, -100, 3, 0, -100], Reduction.Mean, 0.1 },
        { -100, [1, -100, 3, 0, -100], Reduction.Sum, 0.1 },
        { -100, [1, -100, 3, 0, -100], Reduction.None, 0.1 },
        { 2, [2, 0, 2, 3, 1], Reduction.Mean, 0.2 },   // a class index used as the ignored value
        { -100, [3, 1, 0, 2, 1], Reduction.Mean, 0.0 }, // nothing ignored
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientMatchesFiniteDifferences(long ignoreIndex, long[] targets, Reduction reduction, double smoothing)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var logits = Randn(generator, targets.Length, Classes);
        var target = I64(targets);

        GradCheck.Assert(t => Functional.CrossEntropy(t, target, ignoreIndex, reduction, smoothing), logits);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ValueMatchesTheDefinition(long ignoreIndex, long[] targets, Reduction reduction, double smoothing)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var logits = Randn(generator, targets.Length, Classes);

        var loss = Functional.CrossEntropy(logits, I64(targets), ignoreIndex, reduction, smoothing);

        var perRow = Reference(logits.ToArray<double>(), targets, ignoreIndex, smoothing);
        var counted = targets.Count(t => t != ignoreIndex);
        switch (reduction)
        {
            case Reduction.None:
                Assert.Equal([targets.LongLength], loss.Shape);
                AssertClose(perRow, loss.ToArray<double>());
                break;
            case Reduction.Sum:
                AssertClose([perRow.Sum()], [loss.Item()]);
                break;
            default:
                AssertClose([perRow.Sum() / counted], [loss.Item()]);
                break;
        }
    }

    [Fact]
    public void IgnoredPositionsGetNoGradient()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var logits = Randn(generator, 3, Classes).RequiresGrad_();

        Functional.CrossEntropy(logits, I64([2, -100, 1]), labelSmoothing: 0.1).Backward();

        var grad = logits.Grad!.ToArray<double>();
        Assert.All(grad[4..8], g => Assert.Equal(0.0, g));
        Assert.Contains(grad[..4], g => g != 0);
        // Each counted row's gradient is (softmax − smoothed one-hot) / count and sums to zero.
        Assert.Equal(0.0, grad[..4].Sum(), 1e-12);
        Assert.Equal(0.0, grad[8..].Sum(), 1e-12);
    }

    [Fact]
    public void HandComputedLossOfTwoClasses()
    {
        using var scope = DisposeScope.Begin();
        // logits [0, ln 3]: p = [1/4, 3/4]; target 1 → −ln(3/4); target 0 → ln 4.
        var logits = F64([0, Math.Log(3), 0, Math.Log(3)], 2, 2);

        var loss = Functional.CrossEntropy(logits, I64([1, 0]), reduction: Reduction.None);

        AssertClose([-Math.Log(0.75), Math.Log(4)], loss.ToArray<double>());
    }

    private static double[] Reference(double[] logits, long[] targets, long ignoreIndex, double smoothing)
    {
        var losses = new double[targets.Length];
        for (var n = 0; n < targets.Length; n++)
        {
            if (targets[n] == ignoreIndex) continue;
            var row = logits.AsSpan(n * Classes, Classes);
            var max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            var lse = 0.0;
            foreach (var v in row) lse += Math.Exp(v - max);
            lse = max + Math.Log(lse);
            var sumLogP = 0.0;
            foreach (var v in row) sumLogP += v - lse;
            losses[n] = -(1 - smoothing) * (row[(int)targets[n]] - lse) - smoothing / Classes * sumLogP;
        }
        return losses;
    }
}
