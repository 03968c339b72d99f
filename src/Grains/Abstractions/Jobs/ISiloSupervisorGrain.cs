namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// The face of one silo's job supervisor (key = the silo's address; always activated on that silo):
/// starts and stops the worker processes of the jobs whose slots are on it.
/// </summary>
public interface ISiloSupervisorGrain : IGrainWithStringKey
{
    /// <summary>Starts the worker of an attempt; a second call for the same attempt does nothing.</summary>
    Task StartAsync(JobLaunch launch);

    /// <summary>Stops an attempt's worker: SIGINT (it checkpoints), then a kill after the grace period.</summary>
    Task StopAsync(string jobKey, int attempt, string reason);

    Task<IReadOnlyList<RunningJob>> GetRunningAsync();

    /// <summary>
    /// Where an attempt stands on this silo: running, ended (its final report, which the owner may
    /// have missed), or unknown here (null report, not running).
    /// </summary>
    Task<AttemptOnSilo> GetAttemptAsync(string jobKey, int attempt);

    /// <summary>A TCP port free on this silo's host now, for a rendezvous a job there will serve.</summary>
    Task<int> FreePortAsync();
}

/// <summary>An attempt as its silo's supervisor knows it.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.AttemptOnSilo")]
public sealed record AttemptOnSilo([property: Id(0)] bool Running, [property: Id(1)] JobReport? Final);
