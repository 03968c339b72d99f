using Orleans.Concurrency;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// The grain a job tells how it goes: the experiment's coordinator, or the group a rank belongs to.
/// One-way, so that a job never waits on its parent while the parent may be calling it; a lost
/// message is made good by the parent asking the job (<see cref="IJobGrain.GetOutcomeAsync"/>).
/// </summary>
public interface IJobParentGrain : IGrainWithStringKey
{
    [OneWay]
    Task JobEndedAsync(JobOutcome outcome);

    /// <summary>A job's live view changed (started, progress, waiting); not persisted.</summary>
    [AlwaysInterleave, OneWay]
    Task JobChangedAsync(JobView view);
}
