using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.ParallelWorker;

/// <summary>
/// The paper's imbalance experiment on this rank, forward passes only: for each skew, n tokens whose k
/// distinct experts are drawn from a Zipf distribution go through the real expert-parallel dispatch
/// (N_e experts, d wide), and n tokens' sub-tokens through the real head-parallel exchange (N_h heads of
/// d / N_h, each routing among its own N_e experts with the same Zipf skew). The ledger gives what each
/// rank received.
/// </summary>
public static class ZipfRun
{
    private const int DModel = 16;
    private const int Heads = 4;
    private const int ExpertDim = 8;

    public static void Execute(WorkerOptions options, ProcessGroup group)
    {
        var (p, rank, n, k, experts) = (group.WorldSize, group.Rank, options.Tokens, options.TopKs.Single(), options.Experts);
        var headDim = DModel / Heads;
        using var ledger = new CommunicationLedger();
        using var init = new WeightInit(seed: 3, std: 0.02, numLayers: 1);
        using var expertBank = new ExpertBank([experts], DModel, ExpertDim, Activation.Gelu, scaledOutput: false, init,
            new ExpertPartition(rank, p).Of(experts, "experts"));
        using var headBank = new ExpertBank([Heads, experts], headDim, ExpertDim, Activation.Gelu, scaledOutput: false, init,
            new ExpertPartition(rank, p).Of(Heads, "heads"));
        var localHeads = Heads / p;

        var reports = new List<ZipfSkewReport>();
        for (var s = 0; s < options.Skews.Length; s++)
        {
            using var scope = DisposeScope.Begin();
            using var noGrad = GradMode.NoGrad();
            var skew = options.Skews[s];
            var probabilities = ZipfExpertLoad.ExpertProbabilities(experts, skew);
            var random = new Random(7919 * (s + 1) + rank);
            using var generator = new Generator((ulong)(31 * (s + 1) + rank));

            // Expert parallel: route n tokens, dispatch their k copies to the experts' ranks.
            var dispatch = new ExpertParallelDispatch(group, layer: s, ledger);
            var rows = Tensor.Randn([n, DModel], generator);                                             // (n, d)
            var routed = Routing(ZipfExpertSampler.Draw(random, probabilities, n, k), n, k, experts);
            dispatch.Apply(expertBank, rows, routed);

            // Head parallel: the same tokens' sub-tokens to their heads' ranks, Zipf routing there, and back.
            var exchange = new HeadParallelExchange(group, layer: 100 + s, ledger);
            var subTokens = Tensor.Randn([Heads, n, headDim], generator);                                // (N_h, n, d_h)
            var local = exchange.ToHeadOwners(subTokens);                                         // (H, P·n, d_h)
            var m = local.Size(1);
            var ids = new long[localHeads * m * k];
            for (var h = 0; h < localHeads; h++)
            {
                var draws = ZipfExpertSampler.Draw(random, probabilities, (int)m, k);
                for (var i = 0; i < draws.Length; i++) ids[h * m * k + i] = h * experts + draws[i];   // global id within this rank's heads
            }
            var headRouting = Routing(ids, localHeads * m, k, localHeads * experts);
            var mixed = headBank.Apply(local.View(localHeads * m, headDim), headRouting.ExpertIds, headRouting.Gates, headRouting.Counts);
            exchange.ToTokenOwners(mixed.View(localHeads, m, headDim));

            var records = ledger.ReadAndReset().Select(LedgerRow.From).ToArray();
            var expertDispatch = records.Single(r => r.Layer == s && r.Collective == "dispatch");
            reports.Add(new ZipfSkewReport(skew, expertDispatch.BytesReceived / (DModel * sizeof(float)), expertDispatch,
                records.Single(r => r.Layer == s && r.Collective == "metadata"),
                records.Single(r => r.Layer == 100 + s && r.Collective == "dispatch"),
                headRouting.Counts.Sum()));
        }
        ReportFiles.Write(Path.Combine(options.Output, ZipfReport.FileName(rank)),
            new ZipfReport(rank, p, n, k, experts, DModel, Heads, reports));
    }

    /// <summary>Uniform gates 1/k over the drawn experts; counts over <paramref name="experts"/>.</summary>
    private static RoutedTokens Routing(long[] ids, long tokens, int k, int experts)
    {
        var counts = new long[experts];
        foreach (var e in ids) counts[e]++;
        var gates = Tensor.Ones([tokens, k]) * (1.0 / k);                                      // (tokens, k)
        return new RoutedTokens(Tensor.FromArray(ids, ids.Length), gates, counts, null);
    }
}
