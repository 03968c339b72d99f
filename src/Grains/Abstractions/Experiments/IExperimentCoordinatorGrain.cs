using Orleans.Concurrency;
using Orleans.MoE.Grains.Jobs;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// One experiment (key = experiment id): a persisted state machine that runs the experiment's phases
/// as jobs on the cluster, retries failed jobs within each phase's failure budget, and reports.
/// </summary>
public interface IExperimentCoordinatorGrain : IJobParentGrain
{
    /// <summary>Records the plan and starts (or resumes) the experiment. Idempotent: the same plan gets the same answer; another plan under the same id is refused.</summary>
    Task<ExperimentStatus> StartAsync(ExperimentPlan plan);

    [AlwaysInterleave]
    Task<ExperimentStatus> GetStatusAsync();

    /// <summary>Events after sequence number <paramref name="after"/>, oldest first (the coordinator keeps the most recent ones).</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<ExperimentEvent>> GetEventsAsync(long after);

    /// <summary>Stops every job (each checkpoints first) and ends the experiment as cancelled.</summary>
    Task CancelAsync(string reason);

    /// <summary>Re-drives the state machine: starts what is ready, re-places what lost its silo.</summary>
    Task WakeAsync();
}
