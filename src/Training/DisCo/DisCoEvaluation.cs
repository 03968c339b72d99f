using Orleans.MoE.Data.Shards;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.DisCo;

/// <summary>Held-out measurements of one model: perplexity on a set of shards, and where each cluster's tokens are routed.</summary>
public static class DisCoEvaluation
{
    /// <summary>Mean token NLL and perplexity over (at most maxWindows) windows of the shards, read in order.</summary>
    public static EvaluationCompleted Perplexity(Transformer model, IReadOnlyList<string> shards, int contextLength, int batchSize, long? maxWindows)
    {
        using var source = TokenWindowSampler.Open(shards, contextLength, seed: 0, shuffle: false);
        return HeldOutEvaluation.Evaluate(model, source, batchSize, maxWindows);
    }

    /// <summary>
    /// routing[k, e] = the share of cluster k's (token, expert) assignments that go to expert e, over all
    /// routed layers, on the cluster's held-out shard. A DisCo model whose experts kept their
    /// specialisation shows a strong diagonal.
    /// </summary>
    public static double[,] RoutingMatrix(Transformer model, IReadOnlyList<string> clusterShards, int experts, int contextLength, int batchSize, long maxWindows)
    {
        var matrix = new double[clusterShards.Count, experts];
        var wasTraining = model.Training;
        using var noGrad = GradMode.NoGrad();
        try
        {
            for (var k = 0; k < clusterShards.Count; k++)
            {
                using var source = TokenWindowSampler.Open([clusterShards[k]], contextLength, seed: 0, shuffle: false);
                model.ResetRoutingStatistics();
                model.Train();   // the load counters count in training mode only; nothing is updated here
                var windows = Math.Min(maxWindows, source.WindowsPerEpoch);
                for (long done = 0; done < windows;)
                {
                    var b = (int)Math.Min(batchSize, windows - done);
                    using var scope = DisposeScope.Begin();
                    var (inputs, _) = TokenBatch.Split(source.NextBatch(b), b, contextLength);   // (b, T)
                    model.Forward(inputs);
                    done += b;
                }
                var counts = new double[experts];
                foreach (var m in model.RoutingMetrics())
                {
                    for (var e = 0; e < experts && e < m.TokensPerExpert.Length; e++) counts[e] += m.TokensPerExpert[e];
                }
                var total = counts.Sum();
                for (var e = 0; e < experts; e++) matrix[k, e] = total > 0 ? counts[e] / total : double.NaN;
            }
        }
        finally
        {
            model.ResetRoutingStatistics();
            model.Train(wasTraining);
        }
        return matrix;
    }
}
