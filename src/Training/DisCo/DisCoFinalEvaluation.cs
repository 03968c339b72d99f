using System.Text.Json.Nodes;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The last phase's measurements of the fine-tuned DisCo model and the baseline on the same held-out
/// data: perplexity overall and per cluster, and the cluster-to-expert routing matrix.
/// </summary>
internal static class DisCoFinalEvaluation
{
    public static JsonObject Run(DisCoExperimentConfig config, DisCoLayout layout, Dictionary<string, Tensor> baselineWeights,
        Dictionary<string, Tensor> discoWeights, TextWriter log)
    {
        var result = new JsonObject();
        foreach (var (name, weights) in new[] { ("baseline", baselineWeights), ("disco", discoWeights) })
        {
            using var model = new Transformer(config.Model);
            model.LoadStateDict(weights);
            foreach (var t in weights.Values) t.Dispose();
            result[name] = Measure(config, layout, model);
            log.WriteLine($"{name}: held-out perplexity {(double)result[name]!["held_out_perplexity"]!:F2}");
        }
        return result;
    }

    /// <summary>Held-out perplexity overall and per cluster, and the routing matrix, of one MoE.</summary>
    internal static JsonObject Measure(DisCoExperimentConfig config, DisCoLayout layout, Transformer model)
    {
        var (context, batch) = (config.FineTune.ContextLength, config.FineTune.MicroBatchSize);
        var windows = DisCoPhases.EvaluationWindows(config);
        var overall = DisCoEvaluation.Perplexity(model, [layout.CorpusShard(CorpusSplits.Validation)], context, batch, windows);
        var clusterShards = Enumerable.Range(0, config.Experts).Select(k => layout.ClusterShard(k, CorpusSplits.Validation)).ToList();
        var perCluster = clusterShards.Select(s => DisCoEvaluation.Perplexity(model, [s], context, batch, windows).Perplexity).ToArray();
        var routing = DisCoEvaluation.RoutingMatrix(model, clusterShards, config.Experts, context, batch, windows ?? 64);
        var rows = new JsonArray();
        for (var k = 0; k < routing.GetLength(0); k++)
            rows.Add(new JsonArray(Enumerable.Range(0, routing.GetLength(1)).Select(e => (JsonNode?)routing[k, e]).ToArray()));
        return new JsonObject
        {
            ["held_out_loss"] = overall.Loss,
            ["held_out_perplexity"] = overall.Perplexity,
            ["cluster_perplexity"] = new JsonArray(perCluster.Select(p => (JsonNode?)p).ToArray()),
            ["routing"] = rows,
        };
    }
}
