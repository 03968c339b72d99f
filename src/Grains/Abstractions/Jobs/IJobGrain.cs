using Orleans.Concurrency;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// A grain that owns one job of an experiment (key = experiment id / job name): it reserves a slot,
/// has the slot's silo start the worker, follows its reports, and retries a failed attempt within
/// the job's failure budget. Each kind of job has its own grain type.
/// </summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Runs the job unless it already runs or succeeded (idempotent).</summary>
    Task<JobView> RunAsync(JobRequest request);

    /// <summary>Stops the running attempt (it checkpoints first) and ends the job as cancelled.</summary>
    Task CancelAsync(string reason);

    [AlwaysInterleave]
    Task<JobView> GetViewAsync();

    /// <summary>How the job ended, or null while it has not.</summary>
    [AlwaysInterleave]
    Task<JobOutcome?> GetOutcomeAsync();

    /// <summary>From the supervisor of the silo that runs the job; a report of another attempt is refused.</summary>
    Task ReportAsync(JobReport report);

    /// <summary>The silo of the running attempt left the cluster: re-place the job (from the ledger).</summary>
    [OneWay]
    Task SiloLostAsync(int attempt, string silo);
}

/// <summary>A phase that runs as one job: prepare, integrate, fine-tune with one rank, evaluate, report, the baseline.</summary>
public interface IPhaseJobGrain : IJobGrain;

/// <summary>Submodel k of an experiment: backbone + expert k trained on cluster k, on its own, on a silo of the S-phase's device class.</summary>
public interface IExpertSubmodelGrain : IJobGrain;

/// <summary>One shard of the corpus: its documents' features, k-means partial sums for each round, then its per-cluster token files.</summary>
public interface IDataShardGrain : IJobGrain;

/// <summary>One rank of a head- (or expert-) parallel fine-tune group, on the slot its group reserved; it is not retried on its own.</summary>
public interface IHeadParallelRankGrain : IJobGrain;

/// <summary>
/// The P ranks of one fine-tune as one job: gang-placed on P distinct silos (all or none), one
/// rendezvous on rank 0's silo; when a rank fails the whole group stops and restarts from the last
/// checkpoint (at the same P, or at a smaller one when the experiment allows elastic restarts).
/// </summary>
public interface IRankGroupGrain : IJobGrain, IJobParentGrain;
