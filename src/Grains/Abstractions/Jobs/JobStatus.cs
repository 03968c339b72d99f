namespace Orleans.MoE.Grains.Jobs;

/// <summary>Where a job stands.</summary>
public enum JobStatus
{
    /// <summary>Not asked to run yet.</summary>
    Pending,

    /// <summary>Asked to run; no eligible silo has a free slot.</summary>
    Waiting,

    /// <summary>A slot is reserved and the worker process is starting or running.</summary>
    Running,

    Succeeded,

    /// <summary>Failed more often than its phase's failure budget allows.</summary>
    Failed,

    Cancelled,
}

public static class JobStatuses
{
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}
