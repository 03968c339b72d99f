namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// The experiment coordinator's states, in pipeline order. The phase shown is the furthest one the
/// experiment has started: the baseline runs beside the submodels (they are independent), so an
/// experiment is in <see cref="TrainingSubmodels"/> while its baseline may still be training.
/// </summary>
public enum ExperimentPhase
{
    Created,
    Preparing,
    Clustering,
    Baseline,
    TrainingSubmodels,
    Integrating,
    FineTuning,
    Evaluating,
    Reporting,
    Completed,
    Failed,
    Cancelled,
}

public static class ExperimentPhases
{
    /// <summary>Completed, failed and cancelled experiments do nothing more.</summary>
    public static bool IsTerminal(this ExperimentPhase phase) => phase is ExperimentPhase.Completed or ExperimentPhase.Failed or ExperimentPhase.Cancelled;
}
