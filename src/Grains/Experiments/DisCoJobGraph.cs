using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// The jobs of an MoE-DisCo experiment and what each needs first. The baseline and the submodels
/// (and the control's dense submodel) need only the clusters, so they run at the same time when
/// slots allow; the fine-tunes need the baseline's final loss as their target.
/// </summary>
public static class DisCoJobGraph
{
    public const string LowCost = "low-cost";
    public const string HighMemory = "high-memory";

    public static IReadOnlyList<JobNode> For(DisCoExperimentConfig config)
    {
        var submodels = Enumerable.Range(0, config.Experts).Select(DisCoPhases.Submodel).ToList();
        var nodes = new List<JobNode>
        {
            new(DisCoPhases.Prepare, DisCoPhases.Prepare, ExperimentPhase.Preparing, LowCost, []),
            new(DisCoPhases.Cluster, DisCoPhases.Cluster, ExperimentPhase.Clustering, LowCost, [DisCoPhases.Prepare]),
            new(DisCoPhases.Baseline, DisCoPhases.Baseline, ExperimentPhase.Baseline, HighMemory, [DisCoPhases.Cluster]),
        };
        nodes.AddRange(submodels.Select(s => new JobNode(s, s, ExperimentPhase.TrainingSubmodels, LowCost, [DisCoPhases.Cluster], JobKind.ExpertSubmodel)));
        nodes.Add(new(DisCoPhases.Integrate, DisCoPhases.Integrate, ExperimentPhase.Integrating, HighMemory, [DisCoPhases.Cluster, .. submodels]));
        nodes.Add(new(DisCoPhases.FineTune, DisCoPhases.FineTune, ExperimentPhase.FineTuning, HighMemory, [DisCoPhases.Integrate, DisCoPhases.Baseline]));
        nodes.Add(new(DisCoPhases.Evaluate, DisCoPhases.Evaluate, ExperimentPhase.Evaluating, HighMemory, [DisCoPhases.FineTune, DisCoPhases.Baseline]));
        var report = new List<string> { DisCoPhases.Evaluate };
        if (config.DenseUpcycling.Enabled)
        {
            nodes.Add(new(DenseUpcyclingControl.Dense, DenseUpcyclingControl.Dense, ExperimentPhase.TrainingSubmodels, LowCost, [DisCoPhases.Cluster]));
            nodes.Add(new(DenseUpcyclingControl.Upcycle, DenseUpcyclingControl.Upcycle, ExperimentPhase.Integrating, HighMemory, [DenseUpcyclingControl.Dense]));
            nodes.Add(new(DenseUpcyclingControl.FineTune, DenseUpcyclingControl.FineTune, ExperimentPhase.FineTuning, HighMemory,
                [DenseUpcyclingControl.Upcycle, DisCoPhases.Baseline]));
            nodes.Add(new(DenseUpcyclingControl.Evaluate, DenseUpcyclingControl.Evaluate, ExperimentPhase.Evaluating, HighMemory, [DenseUpcyclingControl.FineTune]));
            report.Add(DenseUpcyclingControl.Evaluate);
        }
        nodes.Add(new(DisCoPhases.Report, DisCoPhases.Report, ExperimentPhase.Reporting, LowCost, report));
        return nodes;
    }
}
