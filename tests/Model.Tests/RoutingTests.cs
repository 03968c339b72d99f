using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

public class RoutingTests
{
    private static readonly BalancingConfig NoAux = new();

    private static WeightInit Init(ulong seed = 5) => new(seed, 0.5, numLayers: 1);

    /// <summary>expert e of a stacked bank applied to rows (n, width): down_e(gelu(up_e x)).</summary>
    private static Tensor Expert(ExpertBank bank, Tensor rows, params long[] index)
    {
        Tensor up = bank.WUp, down = bank.WDown;
        foreach (var i in index)
        {
            up = up.Select(0, i);
            down = down.Select(0, i);
        }
        return Functional.Linear(Functional.Linear(rows, up).Gelu(), down);
    }

    [Fact]
    public void MoeWithAllExpertsSelectedAndAZeroRouterAveragesTheExperts()
    {
        using var scope = DisposeScope.Begin();
        using var init = Init();
        using var moe = new MoeFeedForward(16, TestConfigs.Experts(5, 5, 8), NoAux, init);
        using (GradMode.NoGrad()) moe.Router.Zero_();
        var x = Tensor.Randn([20, 16], new Generator(1));

        var output = moe.Forward(x).Output;
        var average = Tensor.Stack(Enumerable.Range(0, 5).Select(e => Expert(moe.Experts, x, e)).ToArray()).Mean(0);
        Numerics.AssertClose(average, output, "MoE output vs the mean of all experts");
    }

    [Fact]
    public void MultiHeadLatentMoeWithAllExpertsSelectedAndZeroRoutersAveragesEachHeadsExperts()
    {
        using var scope = DisposeScope.Begin();
        using var init = Init();
        using var mh = new MultiHeadLatentMoeFeedForward(16, TestConfigs.Experts(3, 3, 8), new HeadsConfig { NumHeads = 4 }, NoAux, init);
        using (GradMode.NoGrad()) mh.Router.Zero_();
        var x = Tensor.Randn([20, 16], new Generator(2));

        var output = mh.Forward(x).Output;
        var sub = Functional.Linear(x, mh.WIn).View(20, 4, 4);   // (N, N_h, d_h)
        var heads = Enumerable.Range(0, 4).Select(h =>
            Tensor.Stack(Enumerable.Range(0, 3).Select(e => Expert(mh.Experts, sub.Select(1, h), h, e)).ToArray()).Mean(0)).ToArray();
        var expected = Functional.Linear(Tensor.Cat(heads, 1), mh.WOut);
        Numerics.AssertClose(expected, output, "Multi-Head LatentMoE output vs the per-head mean of the experts");
    }

    [Fact]
    public void DroplessRoutingComputesEveryAssignmentEvenWhenOneExpertTakesAllTokens()
    {
        using var scope = DisposeScope.Begin();
        using var init = Init();
        using var moe = new MoeFeedForward(16, TestConfigs.Experts(4, 2, 8), NoAux, init);
        using (GradMode.NoGrad()) moe.BalancingBias.Copy_(Tensor.FromArray(new float[] { 0, 0, 50, 0 }, 1, 4));
        const int tokens = 40;
        var x = Tensor.Randn([tokens, 16], new Generator(3));

        var output = moe.Forward(x).Output;
        var counts = moe.Statistics.Counts.ToArray();
        Assert.Equal(tokens * 2L, counts.Sum());
        Assert.Equal(tokens, counts[2]);   // 2.5x the mean load of 16: a capacity factor below that would drop tokens

        // Reference: each token's own two experts, picked and gated independently of the grouping code.
        var logits = Functional.Linear(x, moe.Router);                      // (N, 4)
        var selection = logits.Detach().ToArray<float>();
        var rows = new List<Tensor>();
        for (var t = 0; t < tokens; t++)
        {
            var other = Enumerable.Range(0, 4).Where(e => e != 2).MaxBy(e => selection[t * 4 + e]);
            var pair = Tensor.FromArray(new long[] { 2, other });
            var gates = logits.Select(0, t).IndexSelect(0, pair).Softmax(0);   // (2), softmax over the selected logits
            var xt = x.Narrow(0, t, 1);
            rows.Add(Expert(moe.Experts, xt, 2) * gates.Narrow(0, 0, 1) + Expert(moe.Experts, xt, other) * gates.Narrow(0, 1, 1));
        }
        Numerics.AssertClose(Tensor.Cat(rows, 0), output, "dropless output under total imbalance");
    }

    [Fact]
    public void TheBalancingBiasChangesSelectionButNeverTheGates()
    {
        using var scope = DisposeScope.Begin();
        using var init = Init();
        // With k = N_e every expert is selected whatever the bias, so any bias must leave the output unchanged.
        using var mh = new MultiHeadLatentMoeFeedForward(16, TestConfigs.Experts(4, 4, 8), new HeadsConfig { NumHeads = 2 }, NoAux, init);
        var x = Tensor.Randn([12, 16], new Generator(4));
        var unbiased = mh.Forward(x).Output;
        using (GradMode.NoGrad()) mh.BalancingBias.Copy_(Tensor.Randn([2, 4], new Generator(5)) * 3.0);
        var biased = mh.Forward(x).Output;
        Numerics.AssertClose(unbiased, biased, "output with a bias", 1e-6);
    }

    [Fact]
    public void BiasUpdateFollowsTheSignOfTheLoadGapRecentred()
    {
        var stats = new RoutingStatistics(groups: 2, numExperts: 4, topK: 2);
        stats.Add([10, 2, 0, 4, 4, 4, 4, 4], 8);
        var bias = new float[] { 0.5f, 0, 0, 0, 1, 1, 1, 1 };
        stats.ApplyBiasUpdate(bias, 0.1);
        // Group 0 loads 10/16, 2/16, 0, 4/16 against a mean of 1/4: signs -1, +1, +1, 0, mean 0.25.
        Assert.Equal([0.5f - 0.125f, 0.075f, 0.075f, -0.025f], bias[..4]);
        // Group 1 is balanced: no change.
        Assert.Equal([1f, 1f, 1f, 1f], bias[4..]);
    }

    [Fact]
    public void MetricsDescribeTheLoad()
    {
        var m = RoutingMetrics.FromCounts(layer: 3, head: 1, [10, 2, 0, 4], tokens: 8);
        Assert.Equal(2.5, m.MaxOverMean, 12);
        Assert.Equal(Math.Sqrt(14) / 4, m.CoefficientOfVariation, 12);
        var entropy = -(10 / 16.0 * Math.Log(10 / 16.0) + 2 / 16.0 * Math.Log(2 / 16.0) + 4 / 16.0 * Math.Log(4 / 16.0));
        Assert.Equal(entropy, m.LoadEntropy, 12);
        Assert.Equal(entropy / Math.Log(4), m.NormalizedLoadEntropy, 12);

        var balanced = RoutingMetrics.FromCounts(0, null, [5, 5, 5, 5], 10);
        Assert.Equal((1.0, 0.0, 1.0), (balanced.MaxOverMean, balanced.CoefficientOfVariation, balanced.NormalizedLoadEntropy));
    }
}
