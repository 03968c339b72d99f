using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// The jobs of an MoE-DisCo experiment and what each needs first. The baseline and the submodels
/// (and the control's dense submodel) need only the clusters, so they run at the same time when
/// slots allow; the fine-tunes need the baseline's final loss as their target. The device classes
/// are the experiment's (cluster.low_cost_class and cluster.high_memory_class); a fine-tune of
/// several ranks is one rank group, and so is a clustering of several data shards.
/// </summary>
public static class DisCoJobGraph
{
    /// <summary>The default device classes (the embedded cluster's pools).</summary>
    public const string LowCost = "low-cost";
    public const string HighMemory = "high-memory";

    public static IReadOnlyList<JobNode> For(DisCoExperimentConfig config)
    {
        var (low, high) = (config.Cluster.LowCostClass, config.Cluster.HighMemoryClass);
        var fineTuneKind = config.Cluster.FineTuneRanks > 1 ? JobKind.RankGroup : JobKind.Phase;
        var submodels = Enumerable.Range(0, config.Experts).Select(DisCoPhases.Submodel).ToList();
        var nodes = new List<JobNode>
        {
            new(DisCoPhases.Prepare, DisCoPhases.Prepare, ExperimentPhase.Preparing, low, []),
            new(DisCoPhases.Cluster, DisCoPhases.Cluster, ExperimentPhase.Clustering, low, [DisCoPhases.Prepare],
                config.Clustering.Shards > 1 ? JobKind.RankGroup : JobKind.Phase),
            new(DisCoPhases.Baseline, DisCoPhases.Baseline, ExperimentPhase.Baseline, high, [DisCoPhases.Cluster]),
        };
        nodes.AddRange(submodels.Select(s => new JobNode(s, s, ExperimentPhase.TrainingSubmodels, low, [DisCoPhases.Cluster], JobKind.ExpertSubmodel)));
        nodes.Add(new(DisCoPhases.Integrate, DisCoPhases.Integrate, ExperimentPhase.Integrating, high, [DisCoPhases.Cluster, .. submodels]));
        nodes.Add(new(DisCoPhases.FineTune, DisCoPhases.FineTune, ExperimentPhase.FineTuning, high, [DisCoPhases.Integrate, DisCoPhases.Baseline], fineTuneKind));
        nodes.Add(new(DisCoPhases.Evaluate, DisCoPhases.Evaluate, ExperimentPhase.Evaluating, high, [DisCoPhases.FineTune, DisCoPhases.Baseline]));
        var report = new List<string> { DisCoPhases.Evaluate };
        if (config.DenseUpcycling.Enabled)
        {
            nodes.Add(new(DenseUpcyclingControl.Dense, DenseUpcyclingControl.Dense, ExperimentPhase.TrainingSubmodels, low, [DisCoPhases.Cluster]));
            nodes.Add(new(DenseUpcyclingControl.Upcycle, DenseUpcyclingControl.Upcycle, ExperimentPhase.Integrating, high, [DenseUpcyclingControl.Dense]));
            nodes.Add(new(DenseUpcyclingControl.FineTune, DenseUpcyclingControl.FineTune, ExperimentPhase.FineTuning, high,
                [DenseUpcyclingControl.Upcycle, DisCoPhases.Baseline], fineTuneKind));
            nodes.Add(new(DenseUpcyclingControl.Evaluate, DenseUpcyclingControl.Evaluate, ExperimentPhase.Evaluating, high, [DenseUpcyclingControl.FineTune]));
            report.Add(DenseUpcyclingControl.Evaluate);
        }
        nodes.Add(new(DisCoPhases.Report, DisCoPhases.Report, ExperimentPhase.Reporting, low, report));
        return nodes;
    }
}
