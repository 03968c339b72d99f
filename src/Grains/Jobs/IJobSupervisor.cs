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
}
