using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The rules an experiment must follow: the model's and each training section's own rules (under
/// their section's path), and what MoE-DisCo needs of them together.
/// </summary>
public static class DisCoExperimentValidator
{
    /// <summary>Records every broken rule; checks that depend on a field already reported are skipped.</summary>
    public static void Collect(DisCoExperimentConfig c, ConfigProblems problems)
    {
        var model = c.Model;
        ModelConfigValidator.Collect(model, problems.Under("model"));
        foreach (var (path, training) in Sections(c))
        {
            TrainingConfigValidator.Collect(training, problems.Under(path));
            problems.Check(training.ContextLength <= model.MaxSeqLen, $"{path}.context_length",
                $"{training.ContextLength} exceeds model.max_seq_len ({model.MaxSeqLen})", "model.max_seq_len");
        }

        problems.Check(model.Layers.Ffn.Kind is FfnKind.Moe or FfnKind.LatentMoe, "model.layers.ffn.kind",
            "MoE-DisCo needs kind 'moe' or 'latent_moe' (a submodel has one expert with top-1 routing, which Multi-Head LatentMoE forbids)");
        problems.Check(c.Experts >= 2, "model.layers.ffn.moe.num_experts", "MoE-DisCo needs at least 2 experts (one submodel per expert)",
            "model.layers.ffn.moe");
        problems.Check(model.Layers.FirstDense < model.NumLayers, "model.layers.first_dense", "at least one layer must be an MoE layer", "model.num_layers");

        CheckDenseUpcycling(c.DenseUpcycling, c.Experts, problems);
        CheckCluster(c.Cluster, model, c.FineTune, problems);
        problems.Check(c.TargetLossWindow >= 1, "target_loss_window", "must be at least 1");
        problems.Check(c.Data.MaxBytesPerDomain > 0, "data.max_bytes_per_domain", "must be positive");
        problems.Check(c.Data.ValidationFraction is > 0 and < 1, "data.validation_fraction",
            $"{c.Data.ValidationFraction} is outside (0, 1); held-out perplexity needs a validation split, e.g. 0.05");
        problems.Check(c.Clustering.Restarts >= 1, "clustering.restarts", "must be at least 1");
        problems.Check(c.Clustering.BalanceSlack is null or >= 0, "clustering.balance_slack", "must be 0 or more (leave it out for plain k-means)");
        problems.Check(c.Clustering.Shards >= 1, "clustering.shards", "must be at least 1 (1 = one clustering job)");
        problems.Check(c.Clustering.Shards == 1 || c.Clustering.Method == PartitionMethod.Kmeans, "clustering.shards",
            "data shards run k-means; the random partition is one job: set shards to 1 or method to kmeans");
        foreach (var (path, device) in new[] { ("prices.low_cost", c.Prices.LowCost), ("prices.high_memory", c.Prices.HighMemory) })
        {
            problems.Check(device.DollarsPerHour >= 0, $"{path}.dollars_per_hour", "must be 0 or more");
            problems.Check(device.RelativeThroughput > 0, $"{path}.relative_throughput", "must be positive (1 = as fast as this machine)");
        }
    }

    private static IEnumerable<(string Path, TrainingConfig Training)> Sections(DisCoExperimentConfig c) =>
        [("submodels", c.Submodels), ("fine_tune", c.FineTune), ("baseline", c.Baseline)];

    private static void CheckDenseUpcycling(DenseUpcyclingSpec spec, int experts, ConfigProblems problems)
    {
        problems.Check(spec.Steps is null or >= 1, "dense_upcycling.steps", "must be at least 1 (or leave it out and give a budget)");
        problems.Check(spec.Steps is null || spec.Budget is null, "dense_upcycling.steps",
            "give either steps or budget, not both: steps fixes the dense submodel's length, budget derives it from submodels.steps");
        if (experts > 0)
            problems.Check(spec.Expert >= 0 && spec.Expert < experts, "dense_upcycling.expert",
                $"{spec.Expert} is not an expert slot of the model; use 0 to {experts - 1}", "model.layers.ffn.moe.num_experts");
        else
            problems.Check(spec.Expert >= 0, "dense_upcycling.expert", "must be 0 or more");
    }

    private static void CheckCluster(ClusterSpec spec, ModelConfig model, TrainingConfig fineTune, ConfigProblems problems)
    {
        problems.Check(spec.MaxFailures >= 0, "cluster.max_failures", "must be 0 or more (0: the first failure fails the experiment)");
        problems.Check(spec.JobStallTimeoutSeconds is null or > 0, "cluster.job_stall_timeout_seconds", "must be positive (leave it out to wait forever)");
        problems.Check(spec.CollectiveTimeoutSeconds > 0, "cluster.collective_timeout_seconds", "must be positive");
        problems.Check(spec.LowCostClass.Length > 0, "cluster.low_cost_class", "must name a device class");
        problems.Check(spec.HighMemoryClass.Length > 0, "cluster.high_memory_class", "must name a device class");
        problems.Check(spec.FineTuneRanks >= 1, "cluster.fine_tune_ranks", "must be at least 1");
        if (!ParallelRank.Modes.Contains(spec.Parallel))
        {
            problems.Check(false, "cluster.parallel", $"'{spec.Parallel}' is not a mode; use {string.Join(", ", ParallelRank.Modes)}");
            return;
        }
        if (spec.FineTuneRanks <= 1) return;
        var mode = ParallelRank.ModeFor(spec.Parallel, model);
        problems.Check(mode != ParallelMode.Head || model.Layers.Ffn.Kind == FfnKind.MultiHeadLatentMoe, "cluster.parallel",
            "head parallel needs a Multi-Head LatentMoE; use expert or data for this model");
        if (ParallelRank.Divisor(mode, model) is { } divisor)
            problems.Check(divisor % spec.FineTuneRanks == 0, "cluster.fine_tune_ranks",
                $"{spec.FineTuneRanks} ranks do not divide the model's {divisor} {(mode == ParallelMode.Head ? "heads" : "experts")}", "model.layers.ffn");
        var rows = fineTune.BatchSize / Math.Max(1, fineTune.MicroBatches);
        problems.Check(rows % spec.FineTuneRanks == 0, "cluster.fine_tune_ranks",
            $"{spec.FineTuneRanks} ranks do not divide the fine-tune's {rows} rows per micro-batch (batch_size / micro_batches)", "fine_tune.batch_size");
    }
}
