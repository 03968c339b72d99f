using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// The expert-parallel dispatch of 2 ranks (threads standing in for processes, each with its own gloo
/// group over loopback) against the whole expert bank in one process: outputs and the gradients of the
/// tokens and gates, forward and backward.
/// </summary>
public sealed class ExpertDispatchTests
{
    private const int Experts = 4, Width = 8, Tokens = 6, K = 2;

    /// <summary>Every token on both ranks picks experts 0 and 1, so rank 1 (experts 2 and 3) receives nothing.</summary>
    [Fact]
    public void ARankThatReceivesNoTokensStillTakesPartInTheBackwardExchanges()
    {
        long[] ids = [.. Enumerable.Range(0, Tokens).SelectMany(_ => new long[] { 0, 1 })];
        var results = OnTwoRanks(rank => ids);
        AssertMatchesWholeBank(results, rank => ids);
    }

    [Fact]
    public void MixedRoutingMatchesTheWholeBank()
    {
        long[] Ids(int rank) => [.. Enumerable.Range(0, Tokens).SelectMany(t => new long[] { (t + rank) % Experts, (t + rank + 1 + t % 2) % Experts })];
        AssertMatchesWholeBank(OnTwoRanks(Ids), Ids);
    }

    private sealed record RankResult(float[] Output, float[] RowGrad, float[] GateGrad);

    private static RankResult[] OnTwoRanks(Func<int, long[]> ids) => LocalRanks.Run(2, group =>
    {
        using var ledger = new CommunicationLedger();
        using var bank = Bank(new ExpertPartition(group.Rank, 2).Of(Experts, "experts"));
        return Run(group.Rank, ids(group.Rank), (b, rows, routed) => new ExpertParallelDispatch(group, 0, ledger).Apply(b, rows, routed), bank);
    }, TimeSpan.FromSeconds(15));

    private static void AssertMatchesWholeBank(RankResult[] parallel, Func<int, long[]> ids)
    {
        using var bank = Bank(null);
        for (var rank = 0; rank < 2; rank++)
        {
            var whole = Run(rank, ids(rank), (b, rows, routed) => b.Apply(rows, routed.ExpertIds, routed.Gates, routed.Counts), bank);
            Assert.Equal(whole.Output, parallel[rank].Output, (a, b) => Math.Abs(a - b) <= 1e-6f);
            Assert.Equal(whole.RowGrad, parallel[rank].RowGrad, (a, b) => Math.Abs(a - b) <= 1e-6f);
            Assert.Equal(whole.GateGrad, parallel[rank].GateGrad, (a, b) => Math.Abs(a - b) <= 1e-6f);
        }
    }

    private static ExpertBank Bank(RowSlice? slice)
    {
        using var init = new WeightInit(seed: 9, std: 0.5, numLayers: 1);
        return new ExpertBank([Experts], Width, 8, Activation.Gelu, scaledOutput: false, init, slice);
    }

    /// <summary>Rank r's tokens and gates (seeded by r) through <paramref name="apply"/>, then backward from a weighted sum.</summary>
    private static RankResult Run(int rank, long[] ids, Func<ExpertBank, Tensor, RoutedTokens, Tensor> apply, ExpertBank bank)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator((ulong)(rank + 1));
        var rows = Tensor.Randn([Tokens, Width], generator).RequiresGrad_();        // (R, w)
        var logits = Tensor.Randn([Tokens, K], generator).RequiresGrad_();          // (R, k)
        var counts = new long[Experts];
        foreach (var e in ids) counts[e]++;
        var routed = new RoutedTokens(Tensor.FromArray(ids, ids.Length), logits.Softmax(-1), counts, null);
        var output = apply(bank, rows, routed);                                      // (R, w)
        var weights = Tensor.Randn([Tokens, Width], generator);
        (output * weights).Sum().Backward();
        return new RankResult(output.ToArray<float>(), rows.Grad!.ToArray<float>(), logits.Grad!.ToArray<float>());
    }
}
