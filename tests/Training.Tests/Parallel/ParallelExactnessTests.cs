using Orleans.MoE.ParallelWorker;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// Head parallel (Multi-Head LatentMoE), expert parallel (MoE) and data parallel across P processes
/// give the single-process run's losses, gradient norms (ParallelContext.ClipGradients), routing, gathered gradients and updated weights, step after
/// step (3 SGD steps with the balancing-bias update, so the routing changes between steps), for k = 2, 4, 8.
/// <para>
/// Tolerance: per tensor, max |parallel - single| ≤ 2e-5 · max |single|, and losses and gradient norms
/// within 1e-5 relative. The ranks compute the same sums in a different order (per-rank row blocks, the all-reduce's
/// summation, matrix products of other shapes), so float32 rounding (ε = 1.2e-7) differs by a few ulps per
/// operation and grows through the layers and the steps; the largest difference measured is 6e-7 of
/// the tensor's scale. A wrongly placed head or expert, a lost rank's contribution or a gradient P times
/// too large or small is an O(1) relative error. The expert counts, integers, must match exactly: equal
/// counts show that no near-tie flipped a routing decision, which the tolerance would not cover.
/// </para>
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ParallelExactnessTests
{
    private const double TensorTolerance = 2e-5;
    private const double LossTolerance = 1e-5;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void HeadParallelMatchesTheSingleProcessRun(int worldSize) =>
        AssertMatches(ParallelRuns.Single("mhlmoe"), ParallelRuns.Head(worldSize), ParallelRuns.TopKs, headParallel: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void ExpertParallelMatchesTheSingleProcessRun(int worldSize) =>
        AssertMatches(ParallelRuns.Single("moe"), ParallelRuns.Expert(worldSize), ParallelRuns.TopKs, headParallel: false);

    [Fact]
    public void DataParallelMatchesTheSingleProcessRun() =>
        AssertMatches(ParallelRuns.Single("moe"), ParallelRuns.Data(2), [4], headParallel: false);

    private static void AssertMatches(TrainingRunResult single, TrainingRunResult parallel, int[] topKs, bool headParallel)
    {
        foreach (var k in topKs)
        {
            var reference = single.ByK[k];
            var run = parallel.ByK[k];
            for (var step = 0; step < ParallelRuns.Steps; step++)
            {
                var expected = reference.Ranks[0].Steps[step];
                foreach (var rank in run.Ranks)
                {
                    var actual = rank.Steps[step];
                    Assert.True(Math.Abs(actual.Loss - expected.Loss) <= LossTolerance * expected.Loss,
                        $"k={k} step {step} rank {rank.Rank}: loss {actual.Loss} vs single {expected.Loss}");
                    Assert.True(Math.Abs(actual.GradientNorm - expected.GradientNorm) <= LossTolerance * expected.GradientNorm,
                        $"k={k} step {step} rank {rank.Rank}: gradient norm {actual.GradientNorm} vs single {expected.GradientNorm}");
                }
                AssertSameRouting(expected, run.Ranks.Select(r => r.Steps[step]).ToArray(), headParallel, $"k={k} step {step}");
            }
            Assert.Equal(reference.Whole.Keys.Order(), run.Whole.Keys.Order());
            foreach (var (name, expected) in reference.Whole) AssertClose(expected, run.Whole[name], $"k={k} {name}");
        }
    }

    /// <summary>
    /// Head parallel: rank r counted its heads' experts over every rank's tokens, so the ranks' counts
    /// side by side are the single run's. Expert and data parallel: every rank holds the summed counts.
    /// </summary>
    private static void AssertSameRouting(StepReport single, StepReport[] ranks, bool headParallel, string where)
    {
        foreach (var layer in single.Routing)
        {
            if (headParallel)
            {
                var joined = ranks.SelectMany(r => r.Routing.Single(l => l.Layer == layer.Layer).Counts).ToArray();
                Assert.True(layer.Counts.SequenceEqual(joined), $"{where} layer {layer.Layer}: head-parallel counts differ from the single run's");
            }
            else
            {
                foreach (var r in ranks)
                    Assert.True(layer.Counts.SequenceEqual(r.Routing.Single(l => l.Layer == layer.Layer).Counts),
                        $"{where} layer {layer.Layer}: summed counts differ from the single run's");
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, worst = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        }
        Assert.True(scale > 0, $"{name} is all zeros in the single run: the comparison would prove nothing");
        Assert.True(worst <= TensorTolerance * scale, $"{name}: max difference {worst:E3} exceeds {TensorTolerance} x {scale:E3}");
    }
}
