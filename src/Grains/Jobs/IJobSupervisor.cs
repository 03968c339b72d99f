namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// A silo's job supervisor: runs each attempt it is given as a worker process, reports to the
/// attempt's owner (started, progress, and how it ended), and stops attempts on request. The silo
/// host provides it; <see cref="SiloSupervisorGrain"/> is its face to the cluster.
/// </summary>
public interface IJobSupervisor
{
    Task StartAsync(JobLaunch launch);

    Task StopAsync(string jobKey, int attempt, string reason);

    IReadOnlyList<RunningJob> Running { get; }

    /// <summary>Whether the attempt's worker runs here now.</summary>
    bool IsRunning(string jobKey, int attempt);

    /// <summary>The final report of a recent attempt that ran here and ended; null while it runs, or if it never ran here.</summary>
    Task<JobReport?> FinalReportAsync(string jobKey, int attempt);
}
